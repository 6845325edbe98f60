"""Proposals by hand (``POST /api/v1/proposals``, ``mcpfleet propose``): the request,
then the same probe → entry → validation → forge path discovery takes on its own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from catalog.model import DNS_LABEL
from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.probe import ProbeError, Prober, ProbeResult
from runtime.proposals.discovered import proposal_for_new
from runtime.proposals.proposer import Outcome, Proposal, Proposer

__all__ = ["ManualProposal", "ProposalRequest", "propose_by_hand"]


Kind = Literal["http", "remote", "stdio", "cluster-api"]
NEEDS: dict[str, tuple[str, ...]] = {
    "remote": ("endpoint",),
    "http": ("endpoint", "image"),
    "cluster-api": ("endpoint", "image"),
    "stdio": ("command", "image", "package"),
}
"""What each kind needs besides its name: the validator and the JSON Schema both read this."""
DEFAULT_KIND = "remote"


def _needs_schema(schema: dict[str, Any]) -> None:
    """``NEEDS`` as JSON Schema (``if kind … then required …``), so the OpenAPI document
    refuses what the validator refuses, ``{"endpoint": null}`` included."""
    present = {"not": {"type": "null"}, "minLength": 1, "minItems": 1}
    rules = []
    for kind, fields in NEEDS.items():
        when: dict[str, Any] = {"properties": {"kind": {"const": kind}}, "required": ["kind"]}
        if kind == DEFAULT_KIND:
            when = {"anyOf": [when, {"not": {"required": ["kind"]}}]}
        then = {"required": list(fields), "properties": {f: present for f in fields}}
        rules.append({"if": when, "then": then})
    schema["allOf"] = rules


class ProposalRequest(BaseModel):
    """A server to propose: its name, kind, and where its endpoint is."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_needs_schema)

    name: Annotated[str, StringConstraints(pattern=DNS_LABEL)] = Field(
        description="Catalog name (a DNS label)."
    )
    kind: Kind = Field(
        default=DEFAULT_KIND, description="Catalog kind; http and cluster-api need an image."
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
    probe: StrictBool = Field(default=True, description="Probe the endpoint for its tools first.")

    @model_validator(mode="after")
    def _complete(self) -> ProposalRequest:
        missing = [field for field in NEEDS[self.kind] if not getattr(self, field)]
        if missing:
            fields = " and ".join(f"`{field}`" for field in missing)
            hint = " (its URL)" if missing == ["endpoint"] else ""
            raise ValueError(f"a {self.kind} server needs {fields}{hint}")
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
