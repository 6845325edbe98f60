"""Ollama's ``/api/chat`` through the official ``ollama`` client (``AsyncClient``)."""

from __future__ import annotations

import httpx
import ollama

from runtime.router.errors import AttemptStatus, ProviderError
from runtime.router.providers.base import Reply, redact, unreadable
from runtime.telemetry import ollama_timer

__all__ = ["OllamaProvider"]


class OllamaProvider:
    """Calls ``POST {host}/api/chat`` without streaming; an API key (Ollama's cloud) is
    sent as a bearer token only when the catalog names one."""

    def __init__(
        self, name: str, *, timeout: float, host: str | None = None, api_key: str | None = None
    ) -> None:
        self.name = name
        self._key = api_key
        self._timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self._client = ollama.AsyncClient(host=host, headers=headers, timeout=timeout)

    async def generate(
        self, model_id: str, prompt: str, *, system: str | None, max_tokens: int
    ) -> Reply:
        """Send the conversation and read ``prompt_eval_count`` / ``eval_count``.

        Raises:
            ProviderError: HTTP error, 429, timeout, connection failure, unreadable answer.
        """
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        try:
            with ollama_timer("router", model_id):
                response = await self._client.chat(
                    model=model_id, messages=messages, options={"num_predict": max_tokens}
                )
        except ollama.ResponseError as exc:
            status = AttemptStatus.RATE_LIMITED if exc.status_code == 429 else AttemptStatus.ERROR
            reason = f"HTTP {exc.status_code}: {redact(exc.error, self._key)}"
            raise ProviderError(status, reason) from exc
        except httpx.TimeoutException as exc:
            raise ProviderError(
                AttemptStatus.TIMEOUT, f"no answer within {self._timeout:g}s"
            ) from exc
        except (ConnectionError, httpx.TransportError) as exc:
            raise ProviderError(
                AttemptStatus.ERROR, f"cannot reach Ollama ({type(exc).__name__})"
            ) from exc
        except ValueError as exc:  # not JSON, or not a chat response (pydantic says so)
            raise unreadable("Ollama", type(exc).__name__) from exc
        return Reply(
            text=response.message.content or "",
            input_tokens=response.prompt_eval_count or 0,
            output_tokens=response.eval_count or 0,
        )

    async def aclose(self) -> None:
        await self._client.close()
