"""The file source: a directory of endpoint descriptions, for hosts without Kubernetes.

Each ``*.yaml``/``*.yml``/``*.json`` file describes one endpoint, or several under an
``endpoints:`` list::

    name: weather                       # catalog name (DNS label)
    url: http://127.0.0.1:9000/mcp      # or: command + args (+ env) for stdio
    transport: streamable-http          # default: streamable-http for url, stdio for command
    description: Forecasts for the house
    image: ghcr.io/example/weather:1.0  # the fleet can run it: proposed as kind `http`

Every field is in docs/discovery.md ("The endpoint file"). ``kind`` defaults to what the
file makes true: ``stdio`` for a command, ``http`` for a URL with an ``image``, else
``remote``; the seed's words ``standard``/``kmcp``/``toolhive`` are accepted too.

The directory is polled by modification time (no inotify dependency, works on any
filesystem). A file that does not parse is still reported, as an endpoint named after the
file with ``problem`` set, so the mistake shows in the registry instead of vanishing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from catalog.model import DNS_LABEL
from runtime.endpoints.endpoint import Endpoint, Event, Gone, Seen, Snapshot
from runtime.endpoints.kinds import SEED_TYPES

__all__ = ["EndpointSpec", "FileSource", "read_endpoint_file"]

log = logging.getLogger(__name__)
Emit = Callable[[Event], Awaitable[None]]
SUFFIXES = (".yaml", ".yml", ".json")


class EndpointSpec(BaseModel):
    """One endpoint in an endpoints file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=DNS_LABEL)]
    url: Annotated[str, StringConstraints(pattern=r"^https?://")] | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    transport: Literal["streamable-http", "sse", "stdio"] | None = None
    description: str | None = None
    kind: (
        Literal["http", "stdio", "remote", "cluster-api", "standard", "kmcp", "toolhive"] | None
    ) = None
    image: str | None = None
    package: str | None = None
    tags: list[Annotated[str, StringConstraints(pattern=DNS_LABEL)]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_way_to_reach_it(self) -> EndpointSpec:
        if (self.url is None) == (self.command is None):
            raise ValueError("give exactly one of `url` or `command`")
        if self.command is not None and self.transport not in (None, "stdio"):
            raise ValueError("a `command` endpoint speaks stdio")
        if self.url is not None and self.transport == "stdio":
            raise ValueError("a `url` endpoint speaks streamable-http or sse, not stdio")
        if self.catalog_kind in ("http", "cluster-api") and not self.image:
            raise ValueError(
                f"kind `{self.kind}` runs in the cluster and needs `image`; "
                "without one the server can only be `remote`"
            )
        return self

    @property
    def catalog_kind(self) -> str:
        """The catalog kind: as written (seed words mapped), else what the file makes true."""
        if self.kind is not None:
            return SEED_TYPES[self.kind].value if self.kind in SEED_TYPES else self.kind
        if self.command is not None:
            return "stdio"
        return "http" if self.image else "remote"

    def endpoint(self, origin: str) -> Endpoint:
        stdio = self.command is not None
        return Endpoint(
            name=self.name,
            source="file",
            origin=origin,
            transport=self.transport or ("stdio" if stdio else "streamable-http"),
            url=self.url,
            command=(self.command, *self.args) if self.command is not None else (),
            env=dict(self.env),
            kind=self.catalog_kind,
            capabilities=tuple(self.tags),
            description=self.description,
            image=self.image,
            package=self.package,
        )


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: list[EndpointSpec]


def read_endpoint_file(path: Path) -> list[Endpoint]:
    """The endpoints a file describes; a broken file yields one endpoint with ``problem``."""
    origin = f"file {path}"
    try:
        text = path.read_text(encoding="utf-8")
        data: Any = json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text)
        if isinstance(data, dict) and "endpoints" in data:
            specs = _File.model_validate(data).endpoints
        else:
            specs = [EndpointSpec.model_validate(data)]
    except (OSError, ValueError, YAMLError) as exc:
        return [_broken(path, origin, _describe(exc))]
    if len(specs) == 1:
        return [specs[0].endpoint(origin)]
    return [spec.endpoint(f"{origin}#{i}") for i, spec in enumerate(specs)]


class FileSource:
    """Polls ``directory`` every ``poll_every`` seconds and reports what changed."""

    name = "file"

    def __init__(
        self, directory: Path, *, poll_every: float = 1.0, relist_every: float = 300.0
    ) -> None:
        self._directory = directory
        self._poll_every = poll_every
        self._relist_every = relist_every

    async def run(self, emit: Emit) -> None:
        """Scan until cancelled: a full snapshot first and every ``relist_every``, then diffs."""
        stamps: dict[Path, tuple[int, int]] = {}
        current: dict[str, Endpoint] = {}
        loop = asyncio.get_running_loop()
        listed_at = float("-inf")
        while True:
            found = await asyncio.to_thread(self._stamps)
            if found != stamps or loop.time() - listed_at >= self._relist_every:
                endpoints = await asyncio.to_thread(self._read_all, found)
                if loop.time() - listed_at >= self._relist_every:
                    await emit(Snapshot(self.name, tuple(endpoints.values())))
                    listed_at = loop.time()
                else:
                    for name in current.keys() - endpoints.keys():
                        await emit(Gone(self.name, name))
                    for name, endpoint in endpoints.items():
                        if current.get(name) != endpoint:
                            await emit(Seen(endpoint))
                stamps, current = found, endpoints
            await asyncio.sleep(self._poll_every)

    def _stamps(self) -> dict[Path, tuple[int, int]]:
        if not self._directory.is_dir():
            return {}
        out = {}
        for path in sorted(self._directory.iterdir()):
            if path.suffix in SUFFIXES and not path.name.startswith("."):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                out[path] = (stat.st_mtime_ns, stat.st_size)
        return out

    def _read_all(self, stamps: dict[Path, tuple[int, int]]) -> dict[str, Endpoint]:
        endpoints: dict[str, Endpoint] = {}
        for path in stamps:
            for endpoint in read_endpoint_file(path):
                if endpoint.name in endpoints:
                    first = endpoints[endpoint.name].origin
                    log.warning("%s: endpoint %s already defined by %s", path, endpoint.name, first)
                    continue
                endpoints[endpoint.name] = endpoint
        return endpoints


def _broken(path: Path, origin: str, problem: str) -> Endpoint:
    stem = path.stem.lower()
    return Endpoint(name=stem, source="file", origin=origin, problem=f"{path}: {problem}")


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        )
    return str(exc).replace("\n", " ")
