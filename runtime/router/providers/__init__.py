"""Provider adapters over the official SDKs: ``anthropic``, ``google-genai``, ``ollama``."""

from runtime.router.providers.anthropic_api import AnthropicProvider
from runtime.router.providers.base import ChatProvider, Reply
from runtime.router.providers.google_api import GoogleProvider
from runtime.router.providers.ollama_api import OllamaProvider
from runtime.router.providers.registry import ProviderSet

__all__ = [
    "AnthropicProvider",
    "ChatProvider",
    "GoogleProvider",
    "OllamaProvider",
    "ProviderSet",
    "Reply",
]
