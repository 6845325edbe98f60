"""A :class:`runtime.contracts.Completer` that asks the router service over HTTP.

In the cluster the router is a deployment of its own; triage (in the gateway's pods)
escalates through this client, which speaks ``POST /api/v1/complete`` and turns the
router's JSON errors back into the router's exceptions.
"""

from __future__ import annotations

from typing import Any

import httpx

from runtime.contracts import Completion
from runtime.error_body import read_error
from runtime.router.errors import (
    AllModelsFailed,
    Attempt,
    AttemptStatus,
    InvalidRequest,
    RouterUnreachable,
)

__all__ = ["RouterClient"]


class RouterClient:
    """Completes prompts through a router at ``base_url`` (e.g. ``http://mcpfleet-router:8083``).

    ``http`` is injected so the host owns its lifetime (and tests can point it anywhere);
    ``token`` is sent as a bearer token when the router is behind auth.
    """

    def __init__(self, base_url: str, http: httpx.AsyncClient, *, token: str | None = None):
        self._url = base_url.rstrip("/") + "/api/v1/complete"
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def complete(
        self,
        prompt: str,
        *,
        task_type: str = "chat",
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        """Ask the router.

        Raises:
            InvalidRequest: the router refused the request (unknown task type, ...).
            AllModelsFailed: every model failed; ``attempts`` as the router reported them.
            RouterUnreachable: no answer, or one that is not the router's.
        """
        body: dict[str, Any] = {
            "prompt": prompt,
            "task_type": task_type,
            "system": system,
            "max_tokens": max_tokens,
        }
        try:
            response = await self._http.post(self._url, json=body, headers=self._headers)
            payload: Any = response.json()
        except httpx.HTTPError as exc:
            raise RouterUnreachable(f"cannot reach the router ({type(exc).__name__})") from exc
        except ValueError as exc:
            raise RouterUnreachable(
                f"the router answered HTTP {response.status_code}, not JSON"
            ) from exc
        if response.status_code == 200:
            return _completion(payload)
        raise _error(response.status_code, payload)


def _completion(payload: dict[str, Any]) -> Completion:
    try:
        attempts = payload["attempts"]
        return Completion(
            text=payload["text"],
            model=payload["model"],
            input_tokens=payload["input_tokens"],
            output_tokens=payload["output_tokens"],
            cost_usd=payload["cost_usd"],
            fallbacks_tried=[a["model"] for a in attempts[:-1]],
        )
    except (KeyError, TypeError) as exc:
        raise RouterUnreachable(f"the router's answer lacks {exc}") from exc


def _error(status: int, payload: Any) -> Exception:
    error = read_error(status, payload)
    if status == 422:
        return InvalidRequest(f"the router refused the request: {error.reason}")
    if error.code == "all_models_failed":
        return AllModelsFailed(
            [
                Attempt(
                    model=a["model"],
                    provider=a["provider"],
                    status=AttemptStatus(a["status"]),
                    reason=a.get("reason"),
                    latency_ms=a.get("latency_ms", 0.0),
                )
                for a in error.detail.get("attempts", [])
            ]
        )
    return RouterUnreachable(f"the router answered HTTP {status}: {error.reason}")
