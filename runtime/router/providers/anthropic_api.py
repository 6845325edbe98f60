"""Anthropic's Messages API through the official ``anthropic`` SDK (``AsyncAnthropic``)."""

from __future__ import annotations

import anthropic
import httpx2
from anthropic.types import Usage

from runtime.router.errors import AttemptStatus, ProviderError
from runtime.router.providers.base import Reply, redact, unreadable

__all__ = ["AnthropicProvider"]


class AnthropicProvider:
    """Calls ``POST {base_url}/v1/messages``; the SDK's own retries are off (the router
    falls back to the next model instead of waiting out a 429)."""

    def __init__(
        self,
        name: str,
        *,
        api_key: str,
        timeout: float,
        base_url: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self._key = api_key
        self._timeout = timeout
        self._owns_http = http_client is None
        self._http = http_client or httpx2.AsyncClient()
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            http_client=self._http,
        )

    async def generate(
        self, model_id: str, prompt: str, *, system: str | None, max_tokens: int
    ) -> Reply:
        """Send one user turn (and the system prompt) and read ``usage`` for the counts.

        Raises:
            ProviderError: HTTP error, 429, timeout, connection failure, unreadable answer.
        """
        try:
            message = await self._client.messages.create(
                model=model_id,
                max_tokens=max_tokens,
                messages=[{"role": "user", "content": prompt}],
                system=system if system is not None else anthropic.omit,
            )
        except anthropic.APITimeoutError as exc:
            raise ProviderError(
                AttemptStatus.TIMEOUT, f"no answer within {self._timeout:g}s"
            ) from exc
        except anthropic.APIStatusError as exc:
            status = AttemptStatus.RATE_LIMITED if exc.status_code == 429 else AttemptStatus.ERROR
            detail = exc.api_message or exc.response.reason_phrase
            reason = f"HTTP {exc.status_code}: {redact(detail, self._key)}"
            raise ProviderError(status, reason) from exc
        except anthropic.APIConnectionError as exc:
            raise ProviderError(
                AttemptStatus.ERROR, f"cannot reach the Anthropic API ({type(exc).__name__})"
            ) from exc
        except ValueError as exc:  # not JSON at all
            raise unreadable("the Anthropic API", type(exc).__name__) from exc
        # The SDK builds responses without validating them: check what is read below.
        if not isinstance(message.content, list) or not isinstance(message.usage, Usage):
            raise unreadable("the Anthropic API", "no content or usage")
        text = "".join(block.text for block in message.content if block.type == "text")
        return Reply(
            text=text,
            input_tokens=message.usage.input_tokens
            + (message.usage.cache_creation_input_tokens or 0)
            + (message.usage.cache_read_input_tokens or 0),
            output_tokens=message.usage.output_tokens,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
