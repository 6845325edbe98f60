"""Gemini's ``generateContent`` through the official ``google-genai`` SDK (``Client().aio``).

The SDK would use aiohttp when it is installed (and then retry connection errors after
sleeping up to ten seconds); passing our own httpx2 client keeps it on httpx2, with no
implicit retries, so the router's fallback decides what happens next.
"""

from __future__ import annotations

import httpx
import httpx2
from google import genai
from google.genai import errors, types

from runtime.router.errors import AttemptStatus, ProviderError
from runtime.router.providers.base import Reply, redact, unreadable

__all__ = ["GoogleProvider"]

_TIMEOUTS = (httpx.TimeoutException, httpx2.TimeoutException)
_TRANSPORT = (httpx.TransportError, httpx2.TransportError)


class GoogleProvider:
    """Calls ``POST {base_url}/v1/models/{model}:generateContent`` (the SDK's default API
    version) with the key in ``x-goog-api-key``."""

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
        options = types.HttpOptions(
            base_url=base_url,
            timeout=max(1, round(timeout * 1000)),  # milliseconds
            httpx_async_client=self._http,
        )
        self._client = genai.Client(api_key=api_key, http_options=options)

    async def generate(
        self, model_id: str, prompt: str, *, system: str | None, max_tokens: int
    ) -> Reply:
        """Send the prompt and read ``usageMetadata`` (thinking tokens count as output,
        as Google bills them).

        Raises:
            ProviderError: HTTP error, 429, timeout, connection failure, unreadable answer,
                or no candidate (a blocked prompt).
        """
        config = types.GenerateContentConfig(
            system_instruction=system, max_output_tokens=max_tokens
        )
        try:
            response = await self._client.aio.models.generate_content(
                model=model_id, contents=prompt, config=config
            )
        except errors.APIError as exc:
            status = AttemptStatus.RATE_LIMITED if exc.code == 429 else AttemptStatus.ERROR
            detail = redact(str(exc.message or exc.status or ""), self._key)
            raise ProviderError(status, f"HTTP {exc.code}: {detail}") from exc
        except _TIMEOUTS as exc:
            raise ProviderError(
                AttemptStatus.TIMEOUT, f"no answer within {self._timeout:g}s"
            ) from exc
        except _TRANSPORT as exc:
            raise ProviderError(
                AttemptStatus.ERROR, f"cannot reach the Gemini API ({type(exc).__name__})"
            ) from exc
        except ValueError as exc:  # not JSON, or not the API's shape
            raise unreadable("the Gemini API", type(exc).__name__) from exc
        if not response.candidates:
            feedback = response.prompt_feedback
            blocked = feedback.block_reason if feedback and feedback.block_reason else None
            what = f"prompt blocked: {blocked}" if blocked else "no candidate"
            raise unreadable("the Gemini API", what)
        usage = response.usage_metadata
        return Reply(
            text=_text(response),
            input_tokens=(usage.prompt_token_count or 0) if usage else 0,
            output_tokens=(
                (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
                if usage
                else 0
            ),
        )

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        self._client.close()  # the SDK also opened a sync client
        if self._owns_http:
            await self._http.aclose()


def _text(response: types.GenerateContentResponse) -> str:
    """The first candidate's text parts (``response.text`` warns on non-text parts)."""
    content = response.candidates[0].content if response.candidates else None
    parts = (content.parts or []) if content else []
    return "".join(part.text for part in parts if part.text and not part.thought)
