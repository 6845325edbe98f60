"""The console's static files, read from the package once and served from memory.

Only the files shipped in ``runtime/console/static`` exist (no path from the request
ever reaches the file system); each URL carries a digest of the content, so browsers may
cache them for a year and still see a new release at once. Nothing comes from a CDN: the
console works on an air-gapped cluster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.responses import Response

__all__ = ["ASSET_PREFIX", "Asset", "Assets"]

ASSET_PREFIX = "/assets/"
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    digest: str


class Assets:
    """Every file in the package's ``static`` directory, by name."""

    def __init__(self) -> None:
        self._files: dict[str, Asset] = {}
        for entry in resources.files("runtime.console").joinpath("static").iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
            if entry.is_file() and suffix in _TYPES:
                body = entry.read_bytes()
                digest = hashlib.sha256(body).hexdigest()[:12]
                self._files[entry.name] = Asset(body, _TYPES[suffix], digest)

    def url(self, name: str) -> str:
        """``/assets/<name>?v=<digest>``.

        Raises:
            KeyError: no such asset (a template typo fails the first render, in tests).
        """
        return f"{ASSET_PREFIX}{name}?v={self._files[name].digest}"

    def response(self, name: str) -> Response:
        asset = self._files.get(name)
        if asset is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "ETag": f'"{asset.digest}"',
            },
        )
