"""Proposals by hand (``POST /api/v1/proposals``, ``mcpfleet propose``): the request,
then the same probe → entry → validation → forge path discovery takes on its own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from catalog.model import DNS_LABEL
from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.probe import ProbeError, Prober, ProbeResult
from runtime.proposals.discovered import proposal_for_new
from runtime.proposals.proposer import Outcome, Proposal, Proposer

__all__ = ["ManualProposal", "ProposalRequest", "propose_by_hand"]


class ProposalRequest(BaseModel):
    """A server to propose: its name, kind, and where its endpoint is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=DNS_LABEL)] = Field(
        description="Catalog name (a DNS label)."
    )
    kind: Literal["http", "remote", "stdio", "cluster-api"] = Field(
        default="remote", description="Catalog kind; http and cluster-api need an image."
    )
    endpoint: Annotated[str, StringConstraints(pattern=r"^https?://")] | None = Field(
        default=None, description="URL of the MCP endpoint (http/remote/cluster-api)."
    )
    command: list[str] = Field(default_factory=list, description="stdio: the command line.")
    transport: Literal["streamable-http", "sse"] = "streamable-http"
    description: str | None = None
    image: str | None = None
    package: str | None = None
    tags: list[Annotated[str, StringConstraints(pattern=DNS_LABEL)]] = Field(default_factory=list)
    probe: bool = Field(default=True, description="Probe the endpoint for its tools first.")

    @model_validator(mode="after")
    def _complete(self) -> ProposalRequest:
        if self.kind == "stdio":
            if not self.command:
                raise ValueError("a stdio server needs `command`")
            if not (self.image and self.package):
                raise ValueError("a stdio server needs `image` and `package`")
        elif self.endpoint is None:
            raise ValueError(f"a {self.kind} server needs `endpoint` (its URL)")
        if self.kind in ("http", "cluster-api") and not self.image:
            raise ValueError(f"a {self.kind} server needs `image`")
        return self

    def to_endpoint(self) -> Endpoint:
        stdio = self.kind == "stdio"
        return Endpoint(
            name=self.name,
            source="manual",
            origin="proposed by hand",
            transport="stdio" if stdio else self.transport,
            url=None if stdio else self.endpoint,
            command=tuple(self.command) if stdio else (),
            kind=self.kind,
            capabilities=tuple(self.tags),
            description=self.description,
            image=self.image,
            package=self.package,
        )


@dataclass(frozen=True)
class ManualProposal:
    outcome: Outcome
    proposal: Proposal
    result: ProbeResult | None
    probe_error: str | None


async def propose_by_hand(
    request: ProposalRequest, *, prober: Prober, proposer: Proposer
) -> ManualProposal:
    """Probe (unless told not to), build and validate the entry, propose it.

    A failed probe does not stop the proposal — the server may be reachable only from
    inside the cluster — but it is said in the proposal and in the answer.

    Raises:
        PermanentProposalError: the entry does not validate, or the forge refuses.
        RetryableProposalError: the forge is unreachable for now.
    """
    endpoint = request.to_endpoint()
    result: ProbeResult | None = None
    probe_error: str | None = None
    if request.probe:
        try:
            result = await prober.probe(endpoint)
        except ProbeError as exc:
            probe_error = str(exc)
    proposal = proposal_for_new(endpoint, result, probe_error=probe_error)
    outcome = await asyncio.to_thread(proposer.propose, proposal)
    return ManualProposal(outcome, proposal, result, probe_error)
