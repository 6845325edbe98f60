"""Build one adapter per ``models.yaml`` provider, with keys read from the environment.

A provider that cannot be used (key not set, a type the router cannot chat with) is not
an error at start-up: its models are skipped with that reason, and the fallback chain
moves on, so a laptop with no keys still answers through the local model.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx2

from catalog.model import ModelsFile, Provider
from runtime.router.providers.anthropic_api import AnthropicProvider
from runtime.router.providers.base import ChatProvider
from runtime.router.providers.google_api import GoogleProvider
from runtime.router.providers.ollama_api import OllamaProvider

__all__ = ["ProviderSet"]


class ProviderSet:
    """The adapters of every usable provider, and why each other one is unusable."""

    def __init__(
        self,
        spec: ModelsFile,
        *,
        env: Mapping[str, str],
        timeout: float,
        http_client: httpx2.AsyncClient,
    ) -> None:
        self._adapters: dict[str, ChatProvider] = {}
        self._unusable: dict[str, str] = {}
        for provider in spec.providers:
            adapter = _build(provider, env=env, timeout=timeout, http_client=http_client)
            if isinstance(adapter, str):
                self._unusable[provider.name] = adapter
            else:
                self._adapters[provider.name] = adapter

    def get(self, name: str) -> ChatProvider | str:
        """The adapter for provider ``name``, or the reason there is none."""
        if name in self._adapters:
            return self._adapters[name]
        return self._unusable.get(name, f"provider `{name}` is not in models.yaml")

    @property
    def usable(self) -> list[str]:
        return sorted(self._adapters)

    @property
    def unusable(self) -> dict[str, str]:
        return dict(self._unusable)

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            await adapter.aclose()


def _build(
    provider: Provider, *, env: Mapping[str, str], timeout: float, http_client: httpx2.AsyncClient
) -> ChatProvider | str:
    key = env.get(provider.api_key_env) if provider.api_key_env else None
    if provider.type in ("anthropic", "google"):
        if not key:
            return f"{provider.api_key_env or 'apiKeyEnv'} is not set"
        cls = AnthropicProvider if provider.type == "anthropic" else GoogleProvider
        return cls(
            provider.name,
            api_key=key,
            timeout=timeout,
            base_url=provider.base_url,
            http_client=http_client,
        )
    if provider.type == "ollama":
        if provider.api_key_env and not key:
            return f"{provider.api_key_env} is not set"
        return OllamaProvider(provider.name, timeout=timeout, host=provider.base_url, api_key=key)
    return f"provider type `{provider.type}` has no chat adapter in the router"
