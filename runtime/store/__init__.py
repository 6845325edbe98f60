"""Repositories over the data layer: each takes an open :class:`runtime.db.Database`.

* :class:`TokenStore` — API tokens: ``create`` (plaintext once), ``verify`` (cached),
  ``revoke``, ``list_tokens``; typed :class:`TokenError` reasons for 401s.
* :class:`RateLimiter` — per-client sliding-window limit shared by replicas via PostgreSQL.
* :class:`AuditWriter` — non-blocking ``record()``, batched writes, spill file, ``aclose()``.
* :class:`ServerRegistry` — ``mcp_servers``: catalog sync, discovery upserts, health, tools.
* :class:`QueryHistory`, :class:`AppContexts` — rows with embeddings and k-NN by cosine.
* :class:`ModelUsage` — model calls, cost per UTC day and model.
* :class:`AuditSearch`, :class:`DiscoveryNotes` — read-only views for people (the console):
  the audit log filtered and paginated; discovery's proposals and drift per server.
"""

from runtime.store.audit import AuditWriter
from runtime.store.audit_records import AuditRecord, redact_arguments
from runtime.store.audit_search import AuditFilter, AuditPage, AuditRow, AuditSearch
from runtime.store.contexts import AppContext, AppContexts, ContextMatch
from runtime.store.discovery_notes import DiscoveryNotes, ServerNotes
from runtime.store.history import QueryHistory, QueryMatch, QueryRecord
from runtime.store.rate_limits import RateDecision, RateLimiter
from runtime.store.registry import Drift, Health, ServerRecord, ServerRegistry, Source
from runtime.store.tokens import (
    IssuedToken,
    Principal,
    TokenError,
    TokenExpired,
    TokenInfo,
    TokenInvalid,
    TokenMissing,
    TokenNameTaken,
    TokenNotFound,
    TokenRevoked,
    TokenStore,
)
from runtime.store.usage import DailyUsage, ModelUsage

__all__ = [
    "AppContext",
    "AppContexts",
    "AuditFilter",
    "AuditPage",
    "AuditRecord",
    "AuditRow",
    "AuditSearch",
    "AuditWriter",
    "ContextMatch",
    "DailyUsage",
    "DiscoveryNotes",
    "Drift",
    "Health",
    "IssuedToken",
    "ModelUsage",
    "Principal",
    "QueryHistory",
    "QueryMatch",
    "QueryRecord",
    "RateDecision",
    "RateLimiter",
    "ServerNotes",
    "ServerRecord",
    "ServerRegistry",
    "Source",
    "TokenError",
    "TokenExpired",
    "TokenInfo",
    "TokenInvalid",
    "TokenMissing",
    "TokenNameTaken",
    "TokenNotFound",
    "TokenRevoked",
    "TokenStore",
    "redact_arguments",
]
