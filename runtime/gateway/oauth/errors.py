"""Why an access token could not be checked at all (as opposed to being wrong)."""

from __future__ import annotations

__all__ = ["IssuerUnavailable"]


class IssuerUnavailable(Exception):
    """No signing keys of the token's issuer can be trusted right now: it has not been
    reachable (or published usable metadata) within the keys' bounded lifetime. Not the
    client's fault, so the gateway answers 503; ``str(exc)`` is safe to show."""
