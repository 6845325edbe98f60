"""What every provider adapter offers: one chat call that returns text and token counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from runtime.router.errors import AttemptStatus, ProviderError

__all__ = ["ChatProvider", "Reply", "redact", "unreadable"]


@dataclass(frozen=True)
class Reply:
    """A provider's answer with the token counts from its own usage fields."""

    text: str
    input_tokens: int
    output_tokens: int


class ChatProvider(Protocol):
    """One configured provider (an entry of ``models.yaml`` ``providers``).

    ``generate`` raises :class:`runtime.router.errors.ProviderError` for every failure
    the router should fall back on (status, timeout, throttling, transport), with a
    reason that is safe to show to API clients.
    """

    name: str
    """The provider's catalog name (``providers[].name``)."""

    async def generate(
        self, model_id: str, prompt: str, *, system: str | None, max_tokens: int
    ) -> Reply: ...

    async def aclose(self) -> None: ...


def redact(text: str, secret: str | None) -> str:
    """Remove ``secret`` from a message before it is logged or returned.

    Providers do not echo keys, but an error body is foreign text: never trust it.
    """
    if secret and len(secret) >= 4:
        text = text.replace(secret, "[redacted]")
    return text[:500]


def unreadable(api: str, what: str) -> ProviderError:
    """A 200 whose body is not the API's answer (a proxy's error page, a changed format):
    a failure to fall back on, like any other."""
    return ProviderError(AttemptStatus.ERROR, f"unreadable answer from {api} ({what})")
