"""The emulator's app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from emulator import seed
from emulator.auth import api_middleware
from emulator.config import EmulatorConfig
from emulator.keys import ApiKey
from emulator.routes_admin import add_admin_routes
from emulator.routes_api import add_api_routes, catalog_routes
from emulator.routes_budgets import budget_routes
from emulator.state import DEMO_KEY, EMULATOR, Emulator


def seed_demo(emu: Emulator) -> ApiKey:
    """Demo data first (no key yet, so nothing is delivered), then a key with every scope."""
    environment = emu.config.seed_environment
    seed.seed(emu.stores[environment])
    return emu.create_key(
        environment=environment, name="demo", webhook_url=emu.config.seed_webhook_url
    )


async def _delivery_ctx(app: web.Application) -> AsyncIterator[None]:
    dispatcher = app[EMULATOR].dispatcher
    await dispatcher.start()
    yield
    await dispatcher.close()


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    emu = Emulator(config or EmulatorConfig())
    app = web.Application(middlewares=[api_middleware])
    app[EMULATOR] = emu
    if emu.config.seed:
        app[DEMO_KEY] = seed_demo(emu)
    add_api_routes(app, catalog_routes() + budget_routes())
    add_admin_routes(app)
    app.cleanup_ctx.append(_delivery_ctx)
    return app
