"""The sign-in session: an HttpOnly, SameSite=Strict cookie holding the bearer token.

Why a cookie and not session storage: page scripts can never read an HttpOnly cookie, so
an injected script cannot carry the token away; the console works without JavaScript
(plain forms); and SameSite=Strict keeps browsers from sending it with any request that
another site starts. Forms carry a CSRF token besides (defence in depth, and for
browsers or proxies that lose SameSite), and every POST must come from this origin.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "clear_session",
    "csrf_token",
    "csrf_valid",
    "same_origin",
    "session_token",
    "start_session",
]

COOKIE = "mcpfleet_session"
CSRF_FIELD = "csrf"
# Without authentication there is no token to bind the form token to: a per-process secret.
_PROCESS_SECRET = secrets.token_bytes(32)
_MAX_TOKEN = 4096


def session_token(request: Request) -> str | None:
    """The token in the session cookie, if it looks like one."""
    value = request.cookies.get(COOKIE)
    if not value or len(value) > _MAX_TOKEN:
        return None
    return value


def start_session(response: Response, token: str, *, secure: bool) -> None:
    """Set the cookie: no Max-Age (it ends with the browser session), whole-site path."""
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")


def clear_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=secure, path="/")


def csrf_token(token: str | None) -> str:
    """The form token for a session: an HMAC keyed by the session's own secret token, so
    every replica derives the same value and no one without the cookie can."""
    key = token.encode() if token else _PROCESS_SECRET
    return hmac.new(key, b"mcpfleet-console-csrf", hashlib.sha256).hexdigest()


def csrf_valid(token: str | None, presented: object) -> bool:
    return isinstance(presented, str) and hmac.compare_digest(csrf_token(token), presented)


def same_origin(request: Request, public_url: str | None = None) -> bool:
    """A POST's ``Origin`` (or, without it, ``Referer``) names this host.

    Hosts are compared without the scheme: behind a TLS-terminating ingress the browser
    says https while the gateway sees http. A request with neither header (not a browser)
    passes here and is held to the CSRF token alone.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    seen = urlsplit(source).netloc.lower()
    allowed = {request.headers.get("host", "").lower()}
    if public_url:
        allowed.add(urlsplit(public_url).netloc.lower())
    return bool(seen) and seen in allowed
