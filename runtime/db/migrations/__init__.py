"""Numbered SQL migrations, applied in order by :mod:`runtime.db.migrate`.

Files are ``NNN_name.sql``. Numbers are reserved per part: data layer 001-009, triage
010-019, router 020-029, discovery 030-039, gateway access 040-049, hardening 050-059,
seed plan 060-069, console 070-079,
gateway identity (OAuth) 080-089. ``{embedding_dim}`` is replaced by the embedding
dimension from the catalog. A file never changes once released: the runner refuses to
start when an applied file's checksum differs; add a new file instead.
"""

__all__: list[str] = []
