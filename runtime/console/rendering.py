"""Server-rendered pages: the Jinja2 environment, its filters, and the headers every
console response carries (a Content-Security-Policy that allows no inline script or style,
no framing, no caching of pages that show fleet data)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from runtime.console.assets import Assets

__all__ = ["CONTENT_SECURITY_POLICY", "Pages", "secure_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # tool results may carry images as data: URLs
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def secure_headers(response: Response, *, cacheable: bool = False) -> Response:
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    if not cacheable:
        response.headers["Cache-Control"] = "no-store"
    return response


class Pages:
    """The templates in ``runtime/console/templates``, autoescaped, with the console's
    filters; :meth:`render` adds what every page needs (viewer, section, assets)."""

    def __init__(self, assets: Assets) -> None:
        self.env = Environment(
            loader=PackageLoader("runtime.console", "templates"),
            autoescape=select_autoescape(("html", "svg")),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(when=when, ago=ago, pretty=pretty, usd=usd, ms=ms)
        self.env.globals["asset"] = assets.url

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        values = {"request": request, "path": request.url.path, **(context or {})}
        html = self.env.get_template(template).render(values)
        return HTMLResponse(html, status_code=status, headers=dict(headers or {}))

    def fragment(self, template: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(template).render(context)


# ----------------------------------------------------------------------------- filters


def when(value: Any) -> str:
    """A timestamp as UTC, to the second (API strings and datetimes alike)."""
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else (str(value or "") or "—")


def ago(value: Any) -> str:
    moment = _moment(value)
    if moment is None:
        return "never"
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 0:
        return "in " + _span(-seconds)
    return _span(seconds) + " ago"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def usd(value: Any) -> str:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return "—"
    return f"${amount:,.4f}" if 0 < abs(amount) < 0.01 else f"${amount:,.2f}"


def ms(value: Any) -> str:
    try:
        return f"{float(value):,.1f} ms"
    except (TypeError, ValueError):
        return "—"


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _span(seconds: int) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
