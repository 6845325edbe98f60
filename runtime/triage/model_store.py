"""Trained triage models in PostgreSQL (``triage_models``), one per fleet fingerprint.

Every replica and every restart of an unchanged fleet loads the stored model instead of
training again; a changed fleet trains once and the first replica to finish stores it.
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from runtime.db import Database
from runtime.triage.training import MODEL_VERSION, TriageModel

__all__ = ["ModelStore"]

#: Models kept besides the newest (a rollback of a server's tool list finds its model).
KEEP = 3


class ModelStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, fingerprint: str) -> TriageModel | None:
        """The stored model for ``fingerprint``, or None (never stored, or an older layout)."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT model FROM triage_models WHERE fingerprint = %s", (fingerprint,)
            )
            row = await cur.fetchone()
        if row is None or row[0].get("version") != MODEL_VERSION:
            return None
        return TriageModel.from_dict(row[0])

    async def save(self, model: TriageModel) -> None:
        """Store ``model`` and prune all but the KEEP newest others."""
        async with self._db.connection() as conn:
            await conn.execute(
                "INSERT INTO triage_models (fingerprint, model) VALUES (%s, %s) "
                "ON CONFLICT (fingerprint) DO UPDATE SET model = EXCLUDED.model, "
                "created_at = now()",
                (model.fingerprint, Jsonb(model.to_dict())),
            )
            await conn.execute(
                "DELETE FROM triage_models WHERE fingerprint NOT IN (SELECT fingerprint FROM "
                "triage_models ORDER BY created_at DESC LIMIT %s)",
                (KEEP + 1,),
            )
