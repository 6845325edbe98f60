"""The console's pages, one router per area (see each module)."""

from fastapi import APIRouter

from runtime.console.pages.ask import ask_router
from runtime.console.pages.costs import costs_router
from runtime.console.pages.entry import assets_router, entry_router
from runtime.console.pages.fleet import fleet_router
from runtime.console.pages.review import review_router
from runtime.console.pages.tokens import tokens_router
from runtime.console.pages.tools import tools_router

__all__ = ["console_routers"]


def console_routers() -> list[APIRouter]:
    return [
        entry_router(),
        assets_router(),
        fleet_router(),
        tools_router(),
        ask_router(),
        review_router(),
        costs_router(),
        tokens_router(),
    ]
