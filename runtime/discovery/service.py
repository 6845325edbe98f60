"""The discovery loop: sources report endpoints, each is probed, recorded and, when the
catalog lacks it or it drifted, proposed.

Per endpoint name there is at most one probe task, and at most ``max_concurrent_probes``
probes run at once (a relist of a large cluster must not open hundreds of connections
together, and the first endpoints finish sooner). A changed endpoint (new fingerprint)
cancels it and probes at once; a periodic relist re-probes healthy endpoints (tools can
change without the Service changing) but leaves one in backoff alone and one that failed
permanently waits for a change, as kopf treats temporary and permanent errors.

Proposals go through one worker, one at a time (a forge is a shared repository), latest
entry per server wins, retried with backoff when the forge is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from psycopg import Error as DatabaseError
from psycopg_pool import PoolTimeout

from catalog.model import Catalog, RemoteServer
from runtime.discovery.metrics import DiscoveryMetrics
from runtime.discovery.records import DiscoveryRecords
from runtime.endpoints.drift import DriftReport, compare, missing
from runtime.endpoints.endpoint import Endpoint, Event, Seen, Snapshot
from runtime.endpoints.probe import ProbeError, Prober, ProbeResult
from runtime.proposals.discovered import proposal_for_drift, proposal_for_new
from runtime.proposals.entry import entry_fingerprint
from runtime.proposals.errors import ProposalError
from runtime.proposals.proposer import Outcome, Proposal, Proposer

__all__ = ["Backoff", "Discovery", "Source"]

log = logging.getLogger(__name__)
STORE_ERRORS = (DatabaseError, PoolTimeout, OSError)


class Source(Protocol):
    name: str

    async def run(self, emit: Callable[[Event], Awaitable[None]]) -> None: ...


@dataclass(frozen=True)
class Backoff:
    """Exponential delays: ``first``, doubling, never above ``cap``."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.first * 2**attempt))


@dataclass
class _Tracked:
    endpoint: Endpoint
    fingerprint: str
    task: asyncio.Task[None] | None = None
    result: ProbeResult | None = None
    error: ProbeError | None = None


class Discovery:
    """Runs sources, probes and proposals until cancelled; see the module docstring."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        sources: Sequence[Source],
        prober: Prober,
        records: DiscoveryRecords,
        metrics: DiscoveryMetrics,
        proposer: Proposer | None = None,
        propose_drift: bool = False,
        probe_backoff: Backoff = Backoff(),
        proposal_backoff: Backoff = Backoff(first=5.0, cap=300.0),
        max_concurrent_probes: int = 4,
    ) -> None:
        self._catalog = catalog
        self._sources = sources
        self._prober = prober
        self._records = records
        self._metrics = metrics
        self._proposer = proposer
        self._propose_drift = propose_drift
        self._probe_backoff = probe_backoff
        self._proposal_backoff = proposal_backoff
        self._probe_slots = asyncio.Semaphore(max_concurrent_probes)
        self._catalog_names = {s.name: s for s in catalog.servers}
        self._tracked: dict[str, _Tracked] = {}
        self._by_source: dict[str, set[str]] = {}
        self._pending: dict[str, Proposal] = {}
        self._wake = asyncio.Event()
        self._timers: set[asyncio.Task[None]] = set()
        self._proposed: dict[str, str] = {}  # name -> entry fingerprint last settled
        self.outcomes: dict[str, Outcome] = {}

    async def run(self) -> None:
        """Run until cancelled; on cancellation every probe task is cancelled too."""
        for server in self._catalog.servers:
            await self._store(
                f"declare {server.name}",
                self._records.declare_catalog_server(server, self._catalog.platform),
            )
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._proposal_worker(), name="discovery-proposals")
                for source in self._sources:
                    group.create_task(source.run(self.handle), name=f"discovery-{source.name}")
        finally:
            tasks = [t.task for t in self._tracked.values() if t.task and not t.task.done()]
            tasks += list(self._timers)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def handle(self, event: Event) -> None:
        """Apply one source event (the sources call this)."""
        if isinstance(event, Snapshot):
            self._metrics.events.labels(event.source, "snapshot").inc()
            await self._snapshot(event)
        elif isinstance(event, Seen):
            self._metrics.events.labels(event.endpoint.source, "seen").inc()
            self._by_source.setdefault(event.endpoint.source, set()).add(event.endpoint.name)
            self._seen(event.endpoint, refresh=event.refresh)
        else:
            self._metrics.events.labels(event.source, "gone").inc()
            self._by_source.get(event.source, set()).discard(event.name)
            await self._gone(event.source, event.name)
        self._metrics.known.set(len(self._tracked))

    # ----------------------------------------------------------------- events

    async def _snapshot(self, snapshot: Snapshot) -> None:
        names = {e.name for e in snapshot.endpoints}
        for name in self._by_source.get(snapshot.source, set()) - names:
            await self._gone(snapshot.source, name)
        self._by_source[snapshot.source] = names
        for endpoint in snapshot.endpoints:
            self._seen(endpoint, refresh=True)
        if snapshot.source == "kubernetes":
            for server in self._catalog.servers:
                if not isinstance(server, RemoteServer) and server.name not in names:
                    await self._report_drift(missing(server))

    def _seen(self, endpoint: Endpoint, *, refresh: bool) -> None:
        fingerprint = endpoint.fingerprint()
        tracked = self._tracked.get(endpoint.name)
        if tracked is not None and tracked.fingerprint == fingerprint:
            busy = tracked.task is not None and not tracked.task.done()
            waits = tracked.error is not None and tracked.error.permanent
            if not refresh or busy or waits:
                return
        if tracked is not None and tracked.task is not None:
            tracked.task.cancel()
        tracked = _Tracked(endpoint, fingerprint)
        self._tracked[endpoint.name] = tracked
        tracked.task = asyncio.create_task(self._probe(tracked), name=f"probe-{endpoint.name}")

    async def _gone(self, source: str, name: str) -> None:
        tracked = self._tracked.get(name)
        if tracked is None or tracked.endpoint.source != source:
            return
        del self._tracked[name]
        if tracked.task is not None:
            tracked.task.cancel()
        in_catalog = name in self._catalog_names
        await self._store(f"forget {name}", self._records.gone(name, in_catalog=in_catalog))
        if in_catalog and source == "kubernetes":
            await self._report_drift(missing(self._catalog_names[name]))

    # ----------------------------------------------------------------- probing

    async def _probe(self, tracked: _Tracked) -> None:
        """Probe until it succeeds or fails permanently, backing off in between.

        A registry write that fails (database down) counts as a retryable failure: the
        probe is repeated later so what it found is not lost.
        """
        endpoint = tracked.endpoint
        in_catalog = endpoint.name in self._catalog_names
        attempt = 0
        while True:
            try:
                async with self._probe_slots:
                    started = time.perf_counter()
                    result = await self._prober.probe(endpoint)
            except ProbeError as error:
                kind = "permanent" if error.permanent else "retryable"
                self._metrics.probes.labels(kind).inc()
                tracked.error, tracked.result = error, None
                log.info("probe of %s failed (%s): %s", endpoint.name, kind, error)
                stored = await self._store(
                    f"failure of {endpoint.name}",
                    self._records.failed(endpoint, error, in_catalog=in_catalog),
                )
                if error.permanent and stored:
                    return
            else:
                self._metrics.probe_seconds.observe(time.perf_counter() - started)
                self._metrics.probes.labels("ok").inc()
                tracked.error, tracked.result = None, result
                if await self._store(
                    f"probe of {endpoint.name}",
                    self._records.probed(endpoint, result, in_catalog=in_catalog),
                ):
                    await self._after_probe(endpoint, result, in_catalog)
                    return
            await asyncio.sleep(self._probe_backoff.delay(attempt))
            attempt += 1

    async def _after_probe(self, endpoint: Endpoint, result: ProbeResult, in_catalog: bool) -> None:
        if in_catalog:
            server = self._catalog_names[endpoint.name]
            report = compare(server, endpoint, result.tool_names, self._catalog.platform)
            await self._report_drift(report)
            if report.proposable and self._propose_drift:
                self._enqueue(proposal_for_drift(server, report, endpoint, result))
            return
        if self._proposer is None:
            return
        try:
            self._enqueue(proposal_for_new(endpoint, result))
        except ProposalError as error:
            await self._note_proposal(endpoint.name, {"error": str(error), "permanent": True})

    async def _report_drift(self, report: DriftReport) -> None:
        self._metrics.set_drift(report)
        await self._store(f"drift of {report.server}", self._records.drift(report))

    # ----------------------------------------------------------------- proposals

    def _enqueue(self, proposal: Proposal) -> None:
        """Queue a proposal unless the forge already settled this very entry.

        A restarted service has forgotten, so its first proposal per server goes to the
        forge, which answers "unchanged" instead of opening a duplicate.
        """
        if self._proposer is None:
            return
        name = proposal.server.name
        if self._proposed.get(name) == entry_fingerprint(proposal.server):
            return
        self._pending[name] = proposal
        self._wake.set()

    async def _proposal_worker(self) -> None:
        attempts: dict[str, int] = {}
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending and self._proposer is not None:
                name, proposal = next(iter(self._pending.items()))
                del self._pending[name]
                try:
                    outcome = await asyncio.to_thread(self._proposer.propose, proposal)
                except ProposalError as error:
                    self._metrics.proposals.labels("error").inc()
                    await self._note_proposal(
                        name, {"error": str(error), "permanent": error.permanent}
                    )
                    if not error.permanent:
                        attempt = attempts.get(name, 0)
                        attempts[name] = attempt + 1
                        self._retry_later(proposal, self._proposal_backoff.delay(attempt))
                    continue
                attempts.pop(name, None)
                self._proposed[name] = entry_fingerprint(proposal.server)
                self.outcomes[name] = outcome
                self._metrics.proposals.labels(outcome.status).inc()
                await self._note_proposal(
                    name,
                    {
                        "status": outcome.status,
                        "branch": outcome.branch,
                        "url": outcome.url,
                        "fingerprint": outcome.fingerprint,
                        "diff": outcome.diff,
                        # a rendered entry passed the schema and the cross-file rules
                        "validation": "passed" if outcome.diff is not None else None,
                    },
                )

    def _retry_later(self, proposal: Proposal, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            self._pending.setdefault(proposal.server.name, proposal)
            self._wake.set()

        task = asyncio.create_task(later())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _note_proposal(self, name: str, values: dict[str, object]) -> None:
        stamped = {**values, "at": datetime.now(UTC).isoformat()}
        await self._store(f"proposal of {name}", self._records.note(name, {"proposal": stamped}))

    @staticmethod
    async def _store(what: str, write: Awaitable[None]) -> bool:
        """Await a registry write; a database outage costs a log line, not the loop.

        What is lost is rewritten by the next probe or relist.
        """
        try:
            await write
        except STORE_ERRORS as exc:
            log.warning("registry write failed (%s): %s", what, exc)
            return False
        return True
