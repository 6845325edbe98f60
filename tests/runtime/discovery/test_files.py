"""The file source: a directory of endpoint descriptions, polled by modification time."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from runtime.discovery.files import FileSource, read_endpoint_file
from runtime.endpoints.endpoint import Event, Gone, Seen, Snapshot
from tests.waiting import eventually


class Events(list[Event]):
    async def __call__(self, event: Event) -> None:
        self.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self if isinstance(e, kind)]


@contextlib.asynccontextmanager
async def running(source: FileSource) -> AsyncIterator[Events]:
    events = Events()
    task = asyncio.create_task(source.run(events))
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def touch_later(path: Path, text: str) -> None:
    """Rewrite a file and move its mtime forward, so a same-second edit is still noticed."""
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_a_url_file_describes_a_streamable_http_endpoint(tmp_path: Path) -> None:
    file = tmp_path / "weather.yaml"
    file.write_text("name: weather\nurl: http://127.0.0.1:9000/mcp\ndescription: Forecasts\n")
    (endpoint,) = read_endpoint_file(file)
    assert (endpoint.name, endpoint.transport, endpoint.url) == (
        "weather",
        "streamable-http",
        "http://127.0.0.1:9000/mcp",
    )
    assert endpoint.description == "Forecasts"
    assert endpoint.problem is None


def test_a_command_file_describes_a_stdio_endpoint_with_its_arguments(tmp_path: Path) -> None:
    file = tmp_path / "tools.json"
    file.write_text(
        '{"name": "tools", "command": "python", "args": ["-m", "x"], "env": {"A": "1"}}'
    )
    (endpoint,) = read_endpoint_file(file)
    assert endpoint.transport == "stdio"
    assert endpoint.command == ("python", "-m", "x")
    assert endpoint.env == {"A": "1"}


def test_one_file_can_list_several_endpoints(tmp_path: Path) -> None:
    file = tmp_path / "fleet.yaml"
    file.write_text(
        "endpoints:\n"
        "  - {name: a, url: 'http://127.0.0.1:1/mcp'}\n"
        "  - {name: b, url: 'http://127.0.0.1:2/sse', transport: sse}\n"
    )
    assert [(e.name, e.transport) for e in read_endpoint_file(file)] == [
        ("a", "streamable-http"),
        ("b", "sse"),
    ]


def test_a_broken_file_is_reported_with_the_field_and_the_reason(tmp_path: Path) -> None:
    file = tmp_path / "Bad.yaml"
    file.write_text("name: bad\nurl: http://x/mcp\ncommand: python\n")
    (endpoint,) = read_endpoint_file(file)
    assert endpoint.name == "bad"
    assert endpoint.problem is not None
    assert str(file) in endpoint.problem
    assert "give exactly one of `url` or `command`" in endpoint.problem


def test_an_unknown_key_is_named_in_the_problem(tmp_path: Path) -> None:
    file = tmp_path / "typo.yaml"
    file.write_text("name: typo\nurl: http://x/mcp\ntransprot: sse\n")
    (endpoint,) = read_endpoint_file(file)
    assert endpoint.problem is not None and "transprot" in endpoint.problem


async def test_the_source_reports_a_snapshot_then_additions_changes_and_removals(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nurl: http://127.0.0.1:1/mcp\n")
    async with running(FileSource(tmp_path, poll_every=0.02)) as events:
        snapshot = (await eventually(lambda: events.of(Snapshot), what="snapshot"))[0]
        assert [e.name for e in snapshot.endpoints] == ["a"]
        (tmp_path / "b.yaml").write_text("name: b\nurl: http://127.0.0.1:2/mcp\n")
        await eventually(lambda: events.of(Seen), what="b added")
        touch_later(tmp_path / "a.yaml", "name: a\nurl: http://127.0.0.1:3/mcp\n")
        await eventually(lambda: len(events.of(Seen)) == 2, what="a changed")
        (tmp_path / "b.yaml").unlink()
        await eventually(lambda: events.of(Gone), what="b removed")
    assert [e.endpoint.target for e in events.of(Seen)] == [
        "http://127.0.0.1:2/mcp",
        "http://127.0.0.1:3/mcp",
    ]
    assert events.of(Gone) == [Gone("file", "b")]


async def test_an_untouched_directory_emits_nothing_after_the_snapshot(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nurl: http://127.0.0.1:1/mcp\n")
    source = FileSource(tmp_path, poll_every=0.01)
    async with running(source) as events:
        await eventually(lambda: events.of(Snapshot), what="snapshot")
        # a marker file written after the snapshot proves several polls went by
        (tmp_path / "z.yaml").write_text("name: z\nurl: http://127.0.0.1:9/mcp\n")
        await eventually(lambda: events.of(Seen), what="z added")
    assert [type(e) for e in events] == [Snapshot, Seen]


def test_the_kind_follows_from_what_the_file_gives(tmp_path: Path) -> None:
    cases = {
        "url: http://10.0.0.5:9000/mcp\n": "remote",
        "url: http://127.0.0.1:9000/mcp\nimage: ghcr.io/x/w:1\n": "http",
        "url: http://10.0.0.5:9000/mcp\nimage: ghcr.io/x/w:1\nkind: kmcp\n": "cluster-api",
        "url: http://10.0.0.5:9000/mcp\nkind: standard\nimage: ghcr.io/x/w:1\n": "http",
        "url: http://10.0.0.5:9000/mcp\nkind: toolhive\n": "stdio",
        "command: weather-mcp\nimage: ghcr.io/x/w:1\npackage: npx://weather-mcp\n": "stdio",
    }
    for body, kind in cases.items():
        file = tmp_path / "weather.yaml"
        file.write_text(f"name: weather\n{body}")
        (endpoint,) = read_endpoint_file(file)
        assert endpoint.problem is None, (body, endpoint.problem)
        assert endpoint.kind == kind, body


def test_a_kind_the_fleet_runs_without_an_image_is_a_problem_of_the_file(tmp_path: Path) -> None:
    file = tmp_path / "weather.yaml"
    file.write_text("name: weather\nurl: http://10.0.0.5:9000/mcp\nkind: http\n")
    (endpoint,) = read_endpoint_file(file)
    assert endpoint.problem is not None
    assert "kind `http` runs in the cluster and needs `image`" in endpoint.problem
