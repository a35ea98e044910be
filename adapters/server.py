"""The `consultant serve` aiohttp application: health checks plus each chat platform's mount."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from bot.bootstrap import App
from bot.store.port import StoreError

log = logging.getLogger("adapters.server")

APP_KEY = web.AppKey("consultant_app", App)

# Each platform mount adds its routes and start/stop hooks, or logs why it is disabled.
Mount = Callable[[web.Application, App], None]


def platform_mounts() -> list[Mount]:
    # Imported here so `consultant --help` never loads Bolt or botbuilder.
    from adapters.slack.mount import mount as mount_slack
    from adapters.teams.mount import mount as mount_teams

    return [mount_slack, mount_teams]


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await request.app[APP_KEY].store.ping()
    except StoreError as exc:
        return web.json_response({"status": "unavailable", "database": str(exc)}, status=503)
    return web.json_response({"status": "ready"})


def create_web_app(app: App, mounts: list[Mount] | None = None) -> web.Application:
    web_app = web.Application(client_max_size=8 * 1024 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    for mount in platform_mounts() if mounts is None else mounts:
        mount(web_app, app)

    async def close_app(_web_app: web.Application) -> None:
        await app.close()

    web_app.on_cleanup.append(close_app)
    return web_app
