"""Proposals for what discovery found: a new server, or a drifted catalog entry.

The automatic path (the discovery service) and the manual one (``POST /api/v1/proposals``,
``mcpfleet propose``) both build their proposals here, so they validate the same way.
"""

from __future__ import annotations

from runtime.endpoints.drift import DriftReport
from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.probe import ProbeResult
from runtime.proposals.entry import AnyServer, build_entry, updated_entry
from runtime.proposals.proposer import Proposal

__all__ = ["details", "proposal_for_drift", "proposal_for_new"]


def proposal_for_new(
    endpoint: Endpoint, result: ProbeResult | None, *, probe_error: str | None = None
) -> Proposal:
    """Add ``endpoint`` to the catalog, with the tools the probe listed.

    Raises:
        PermanentProposalError: the endpoint lacks what a catalog entry needs.
    """
    tools = list(result.tools) if result else []
    server = build_entry(
        endpoint,
        tools,
        instructions=result.instructions if result else None,
        server_name=result.server_name if result else None,
    )
    reasons = [f"not reachable from discovery: {probe_error}"] if probe_error else []
    return Proposal(
        server, "add", details=details(endpoint, result), tools=tools, reasons=reasons
    )


def proposal_for_drift(
    server: AnyServer, report: DriftReport, endpoint: Endpoint, result: ProbeResult
) -> Proposal:
    """Update ``server``'s measured fields (tools, image) to what runs now."""
    tools = [str(t["name"]) for t in result.tools] if "tools" in report.reasons else None
    image = report.live_image if "image" in report.reasons else None
    return Proposal(
        updated_entry(server, tools=tools, image=image),
        "update",
        details=details(endpoint, result),
        tools=list(result.tools),
        reasons=report.describe(),
    )


def details(endpoint: Endpoint, result: ProbeResult | None) -> dict[str, str]:
    """The service facts a reviewer wants next to the entry."""
    out = {"found as": endpoint.origin, "transport": endpoint.transport}
    if endpoint.target:
        out["endpoint"] = endpoint.target
    if endpoint.image:
        out["image"] = endpoint.image
    if endpoint.capabilities:
        out["capabilities"] = ", ".join(endpoint.capabilities)
    if result is not None:
        who = " ".join(x for x in (result.server_name, result.server_version) if x)
        if who:
            out["server"] = who
        out["protocol"] = result.protocol_version
    return out
