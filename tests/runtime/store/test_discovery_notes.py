"""Discovery's notes read back: proposals and drift per registry row."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from runtime.db import Database
from runtime.store import DiscoveryNotes


async def test_each_row_carries_its_proposal_and_whether_it_drifted(db: Database) -> None:
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO mcp_servers (name, kind, transport, source, in_catalog, drift, discovery) "
            "VALUES ('weather', 'remote', 'streamable-http', 'discovery', false, '{}', %s), "
            "('homelab', 'stdio', 'stdio', 'catalog', true, %s, '{}'), "
            "('plain', 'http', 'streamable-http', 'catalog', true, %s, '{}')",
            (
                Jsonb({"proposal": {"status": "opened", "diff": "+x"}, "origin": "file"}),
                Jsonb({"reasons": ["image"], "image": {"catalog": "a", "live": "b"}}),
                Jsonb({"tools_added": [], "endpoints_changed": False}),
            ),
        )
    rows = {n.name: n for n in await DiscoveryNotes(db).servers()}
    assert list(rows) == ["homelab", "plain", "weather"]
    assert rows["weather"].proposal == {"status": "opened", "diff": "+x"}
    assert rows["homelab"].proposal is None and rows["homelab"].drifted
    assert not rows["plain"].drifted and not rows["weather"].drifted
