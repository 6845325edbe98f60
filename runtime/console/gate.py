"""Who is looking at the console: the gate that admits a token, and the viewer it yields.

The console never decides on its own who may sign in. The host process (the gateway)
injects a :class:`Gate` that applies its own checks — the IP allowlist, the token store,
the rate limit — so a console page is admitted exactly as an API request would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request

from runtime.store import Principal, TokenStore

__all__ = ["Denied", "Gate", "SignInRequired", "Viewer"]


class Denied(Exception):
    """The gate refused (``status`` 401, 403, 429, 503); ``reason`` is safe to show."""

    def __init__(self, status: int, reason: str, *, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class SignInRequired(Exception):
    """No usable session: the page redirects to the sign-in form (``reason`` shown there)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class Gate(Protocol):
    """The host's admission check and the token store behind it."""

    async def admit(self, request: Request, token: str | None) -> Principal:
        """Admit ``token`` (None: no cookie) for this request.

        Raises:
            Denied: with the host's status and reason.
        """
        ...

    def tokens(self, request: Request) -> TokenStore:
        """The token store the gate verifies with, so a revocation applies at once."""
        ...


@dataclass(frozen=True)
class Viewer:
    """The signed-in principal, its token (for API calls on its behalf) and form token."""

    principal: Principal
    token: str | None
    csrf: str

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def admin(self) -> bool:
        return self.principal.admin

    def allows(self, server: str) -> bool:
        """The one access check, the token store's own (never re-implemented here)."""
        return self.principal.allows(server)
