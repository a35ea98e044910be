"""The `consultant serve` aiohttp application: health checks, metrics, the retention purge, each platform's mount."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from adapters.http_guard import body_timeout_middleware
from bot import metrics
from bot.bootstrap import App
from bot.retention import PURGE_INTERVAL, purge_periodically
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


async def metrics_endpoint(_request: web.Request) -> web.Response:
    body = await metrics.render()
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE_LATEST})


def _retention(app: App, interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    async def run_purge(_web_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(purge_periodically(app.store, app.settings.retention_days, interval))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run_purge


async def drain(web_app: web.Application, grace: float) -> None:
    """Let every mount's turns in flight finish within `grace` seconds; the rest are released, not lost."""
    import asyncio

    await asyncio.gather(*(drain_mount(grace) for drain_mount in web_app[DRAINS_KEY]))


def create_web_app(app: App, mounts: list[Mount] | None = None, *,
                   purge_interval: float = PURGE_INTERVAL) -> web.Application:
    web_app = web.Application(client_max_size=8 * 1024 * 1024,
                              middlewares=[body_timeout_middleware(app.settings.body_timeout)])
    web_app[APP_KEY] = app
    web_app[DRAINS_KEY] = []
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    if app.settings.metrics_enabled:
        web_app.router.add_get("/metrics", metrics_endpoint)
        metrics.set_backlog_provider(app.store.backlog)  # inbox depth and oldest pending age, read per scrape
    if app.settings.retention_days > 0:
        web_app.cleanup_ctx.append(_retention(app, purge_interval))
    for mount in platform_mounts() if mounts is None else mounts:
        mount(web_app, app)

    async def close_app(_web_app: web.Application) -> None:
        await app.close()

    web_app.on_cleanup.append(close_app)
    return web_app
