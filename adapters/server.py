"""The `consultant serve` aiohttp application: health checks plus each chat platform's mount."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.http_guard import body_timeout_middleware
from bot.bootstrap import App
from bot.store.port import StoreError

log = logging.getLogger("adapters.server")

APP_KEY = web.AppKey("consultant_app", App)

# Each platform mount adds its routes and start/stop hooks, or logs why it is disabled.
Mount = Callable[[web.Application, App], None]
# Each mount that runs turns registers how to drain them at shutdown: finish within the grace, then release the rest.
Drain = Callable[[float], Awaitable[None]]
DRAINS_KEY = web.AppKey("drains", list)


def platform_mounts() -> list[Mount]:
    # Imported here so `consultant --help` never loads Bolt or botbuilder.
    from adapters.slack.mount import mount as mount_slack
    from adapters.teams.mount import mount as mount_teams

    return [mount_slack, mount_teams]


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    store = request.app[APP_KEY].store
    try:
        await store.ping()
        behind = await store.schema_behind()
    except StoreError as exc:
        return web.json_response({"status": "unavailable", "database": str(exc)}, status=503)
    if behind:
        return web.json_response({"status": "unavailable", "schema": behind}, status=503)
    return web.json_response({"status": "ready"})


async def drain(web_app: web.Application, grace: float) -> None:
    """Let every mount's turns in flight finish within `grace` seconds; the rest are released, not lost."""
    import asyncio

    await asyncio.gather(*(drain_mount(grace) for drain_mount in web_app[DRAINS_KEY]))


def create_web_app(app: App, mounts: list[Mount] | None = None) -> web.Application:
    web_app = web.Application(client_max_size=8 * 1024 * 1024,
                              middlewares=[body_timeout_middleware(app.settings.body_timeout)])
    web_app[APP_KEY] = app
    web_app[DRAINS_KEY] = []
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    for mount in platform_mounts() if mounts is None else mounts:
        mount(web_app, app)

    async def close_app(_web_app: web.Application) -> None:
        await app.close()

    web_app.on_cleanup.append(close_app)
    return web_app
