"""Proposal failures, split like kopf's: retry later, or wait for something to change."""

from __future__ import annotations

__all__ = ["PermanentProposalError", "ProposalError", "RetryableProposalError"]


class ProposalError(Exception):
    """A proposal could not be made; ``permanent`` says whether retrying can help."""

    permanent = False


class RetryableProposalError(ProposalError):
    """The forge is unreachable, rate limited or failing; try again with backoff."""


class PermanentProposalError(ProposalError):
    """Bad input, bad credentials or a missing repository: retrying cannot help."""

    permanent = True
