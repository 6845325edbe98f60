"""Proposals by hand (``POST /api/v1/proposals``, the seed's ``POST /api/v1/create-pr``,
``mcpfleet propose``): the request, then the same probe → entry → validation → forge path
discovery takes on its own."""

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
from catalog.naming import server_name_of
from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.kinds import SEED_TYPES
from runtime.endpoints.probe import ProbeError, Prober, ProbeResult
from runtime.proposals.discovered import proposal_for_new
from runtime.proposals.proposer import Outcome, Proposal, Proposer

__all__ = ["CreatePrRequest", "ManualProposal", "ProposalRequest", "propose_by_hand"]

Kind = Literal["http", "remote", "stdio", "cluster-api", "standard", "kmcp", "toolhive"]

_PRESENT = {"not": {"type": "null"}, "minLength": 1, "minItems": 1}


def _requires(*fields: str) -> dict[str, Any]:
    return {"required": list(fields), "properties": {f: _PRESENT for f in fields}}


def _kind_is(*kinds: str) -> dict[str, Any]:
    return {"properties": {"kind": {"enum": list(kinds)}}, "required": ["kind"]}


def _needs_schema(schema: dict[str, Any]) -> None:
    """What each kind needs, as JSON Schema (``if kind … then required …``), so the OpenAPI
    document refuses what the validator refuses, ``{"endpoint": null}`` included."""
    # a command to run (with its image and package), or else the URL of one that runs
    command = _requires("command", "image", "package")
    stdio = {"anyOf": [command, {"allOf": [_requires("endpoint"), {"not": _requires("command")}]}]}
    schema["allOf"] = [
        {"if": _kind_is("remote", "standard"), "then": _requires("endpoint")},
        {"if": _kind_is("http", "cluster-api", "kmcp"), "then": _requires("endpoint", "image")},
        {"if": _kind_is("stdio", "toolhive"), "then": stdio},
        # no kind (absent or null): stdio for a command, else an endpoint (http or remote)
        {"if": {"properties": {"kind": {"type": "null"}}}, "then": stdio},
    ]


class ProposalRequest(BaseModel):
    """A server to propose: its name, kind, and where its endpoint is."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_needs_schema)

    name: Annotated[str, StringConstraints(pattern=DNS_LABEL)] = Field(
        description="Catalog name (a DNS label)."
    )
    kind: Kind | None = Field(
        default=None,
        description=(
            "Catalog kind (http and cluster-api need an image), or the seed's word for it "
            "(standard, kmcp, toolhive). Default: stdio for a command, http with an image, "
            "else remote."
        ),
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

    @property
    def catalog_kind(self) -> str:
        """The kind as written (seed words mapped), else what the request makes true."""
        if self.kind is not None:
            return SEED_TYPES[self.kind].value if self.kind in SEED_TYPES else self.kind
        if self.command:
            return "stdio"
        return "http" if self.image else "remote"

    @model_validator(mode="after")
    def _complete(self) -> ProposalRequest:
        kind = self.catalog_kind
        if kind == "stdio" and (self.command or self.endpoint is None):
            if not self.command:
                raise ValueError("a stdio server needs `command`")
            if not (self.image and self.package):
                raise ValueError("a stdio server needs `image` and `package`")
        elif self.endpoint is None:
            raise ValueError(f"a {kind} server needs `endpoint` (its URL)")
        if kind in ("http", "cluster-api") and not self.image:
            raise ValueError(f"a {kind} server needs `image`")
        return self

    def to_endpoint(self) -> Endpoint:
        stdio = self.catalog_kind == "stdio" and bool(self.command)
        return Endpoint(
            name=self.name,
            source="manual",
            origin="proposed by hand",
            transport="stdio" if stdio else self.transport,
            url=None if stdio else self.endpoint,
            command=tuple(self.command) if stdio else (),
            kind=self.catalog_kind,
            capabilities=tuple(self.tags),
            description=self.description,
            image=self.image,
            package=self.package,
        )


class CreatePrRequest(BaseModel):
    """The seed plan's ``POST /api/v1/create-pr`` body, read as a :class:`ProposalRequest`.

    ``server_name`` may be the seed's Kubernetes name (``test-mcp``): the catalog name is
    it without ``-mcp``. ``type`` is the seed's word (``standard``, ``kmcp``, ``toolhive``)
    or a catalog kind.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={  # what proposal_request refuses, so the OpenAPI document says it
            "if": {"properties": {"type": {"enum": ["kmcp", "cluster-api"]}}, "required": ["type"]},
            "then": _requires("image"),
        },
    )

    server_name: Annotated[str, StringConstraints(pattern=DNS_LABEL)] = Field(
        description="The server's name; a trailing `-mcp` is dropped for the catalog name."
    )
    type: Kind = Field(default="standard", description="The seed's type or a catalog kind.")
    endpoint: Annotated[str, StringConstraints(pattern=r"^https?://")] = Field(
        description="URL of the MCP endpoint."
    )
    image: str | None = Field(default=None, description="Lets a `standard` server be `http`.")
    capabilities: list[Annotated[str, StringConstraints(pattern=DNS_LABEL)]] = Field(
        default_factory=list, description="Catalog tags (the seed's capabilities)."
    )
    description: str | None = None

    def proposal_request(self) -> ProposalRequest:
        """``standard`` without an image is ``remote``: the fleet can only register it."""
        kind: Kind = self.type
        if kind in ("standard", "http") and not self.image:
            kind = "remote"
        return ProposalRequest(
            name=server_name_of(self.server_name),
            kind=kind,
            endpoint=self.endpoint,
            image=self.image,
            description=self.description,
            tags=self.capabilities,
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
