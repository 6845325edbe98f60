"""The console inside another process (the gateway): its routes and its lifespan.

Like triage's host, it never imports the gateway; the host wraps these in its own
extension type and passes the :class:`~runtime.console.gate.Gate` that admits viewers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from runtime.console.assets import Assets
from runtime.console.gate import Gate
from runtime.console.pages import console_routers
from runtime.console.rendering import Pages
from runtime.console.routing import ConsoleState
from runtime.settings import Settings

__all__ = ["ConsoleHost"]


@dataclass
class ConsoleHost:
    """What a host mounts: the pages (``routers``) and a ``lifespan`` that needs the
    host's open database on ``app.state.database``."""

    settings: Settings
    gate: Gate
    public_url: str | None = None

    @property
    def routers(self) -> list[APIRouter]:
        return console_routers()

    def lifespan(self, app: FastAPI) -> contextlib.AbstractAsyncContextManager[None]:
        @contextlib.asynccontextmanager
        async def run() -> AsyncIterator[None]:
            assets = Assets()
            app.state.console = ConsoleState(
                gate=self.gate,
                database=app.state.database,
                catalog=self.settings.loaded_catalog,
                pages=Pages(assets),
                assets=assets,
                public_url=self.public_url,
            )
            try:
                yield
            finally:
                app.state.console = None

        return run()
