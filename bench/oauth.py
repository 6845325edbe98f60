"""What an access token costs the gateway per request, and what per-tool grants cost.

Run: ``python bench/oauth.py [--n 2000] [--tools 700]``. Mints tokens with keys made here,
serves their JWKS to the verifier through an in-process transport (no network, so the
figures are the verifier's own: parse, key lookup, signature, claims, grants), then times
``JwtVerifier.verify`` per algorithm, an mcpfleet token's cached check for comparison, and
the per-tool filter ``tools/list`` and triage apply for a restricted caller over a fleet of
``--tools`` tools. Wall-clock on a shared machine: compare runs, not single digits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from catalog.auth import Issuer
from runtime.gateway.oauth import JwtVerifier, ResourceServer
from runtime.store.tokens import Principal

ISSUER = "https://sso.bench.example/realms/bench"
RESOURCE = "https://mcp.bench.example/mcp"
KEYS = {
    "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
}


def _jwks() -> dict[str, Any]:
    keys = []
    for alg, key in KEYS.items():
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
        keys.append({**jwk, "kid": f"{alg}-bench", "alg": alg, "use": "sig"})
    return {"keys": keys}


def _token(alg: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "bench",
        "client_id": "bench",
        "scope": "mcp:read mcp:pods",
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, KEYS[alg], algorithm=alg, headers={"kid": f"{alg}-bench"})


def _row(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6
    return f"{label:<52} p50 {p50:9.1f} µs   p99 {p99:9.1f} µs   (n={len(ordered)})"


async def _timed(n: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def main(n: int, tools: int) -> None:
    jwks = _jwks()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks))
    issuer = Issuer.model_validate(
        {
            "name": "bench",
            "issuer": ISSUER,
            "jwksUri": f"{ISSUER}/keys",
            "access": [
                {"scope": "mcp:read", "allow": ["*:*:ro"]},
                {"scope": "mcp:pods", "allow": ["kubernetes-prod:pods_*"]},
            ],
        }
    )
    async with httpx.AsyncClient(transport=transport) as http:
        verifier = JwtVerifier(ResourceServer(RESOURCE, (issuer,)), http)
        for alg in KEYS:
            token = _token(alg)
            await verifier.verify(token)  # keys fetched once, outside the timing
            print(
                _row(
                    f"verify an access token ({alg})",
                    await _timed(n, lambda t=token: verifier.verify(t)),
                )
            )
    restricted = Principal("bench", frozenset({"*:*:ro", "kubernetes-prod:pods_*"}), None)
    names = [(f"server-{i % 20}", f"tool_{i}", i % 3 == 0) for i in range(tools)]

    async def filter_fleet() -> int:
        return sum(restricted.allows_tool(s, t, ro) for s, t, ro in names)

    print(
        _row(
            f"per-tool filter over {tools} tools (restricted caller)",
            await _timed(max(1, n // 10), filter_fleet),
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--tools", type=int, default=700)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.tools))
