"""Slack on the `consultant serve` aiohttp server: POST /slack/events (HTTP mode) and Socket Mode.

- HTTP: Bolt's AsyncApp behind `to_bolt_request` / `to_aiohttp_response`, with Slack's signature verification (a bad
  or missing signature, or a timestamp more than 5 minutes off, gets 401).
- Socket Mode: when SLACK_APP_TOKEN is set, `AsyncSocketModeHandler` connects from the server's startup hook and
  disconnects in its cleanup hook, so no public URL is needed.
- The Web API client (`AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=SLACK_API_URL)`) retries 429s after
  Retry-After and connection errors, using slack_sdk's retry handlers.
- Missing configuration: without SLACK_BOT_TOKEN the server runs without Slack; without SLACK_SIGNING_SECRET,
  /slack/events answers 503 and never accepts unsigned requests. Either way one log line says so.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (AsyncConnectionErrorRetryHandler,
                                                          AsyncRateLimitErrorRetryHandler)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig
from adapters.slack import precheck
from adapters.slack.handlers import SlackHandlers
from adapters.slack.responder import Capabilities
from adapters.slack.tasks import Background
from adapters.server import DRAINS_KEY
from bot.bootstrap import App

log = logging.getLogger("adapters.slack")

EVENTS_PATH = "/slack/events"
API_TIMEOUT = 30


class SlackAdapter:
    def __init__(self, app: App, config: SlackConfig) -> None:
        self.app, self.config = app, config
        self.client = AsyncWebClient(
            token=config.bot_token, base_url=config.api_url, timeout=API_TIMEOUT,
            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2),
                            AsyncRateLimitErrorRetryHandler(max_retry_count=3)])
        self.background = Background()
        self.caps = Capabilities()
        # Bolt's own loggers default to the root level and would log request bodies (message text) at INFO;
        # rooting them at the "slack_bolt" logger keeps them at the level configure_logging gives it.
        self.bolt = AsyncApp(client=self.client, signing_secret=config.signing_secret,
                             process_before_response=True, name="backend-consultant",
                             logger=logging.getLogger("slack_bolt"))
        self.handlers = SlackHandlers(app, self.client, config, self.background, self.caps)
        self.handlers.register(self.bolt)
        self.socket_handler = None
        self._connecting: asyncio.Task[None] | None = None

    async def handle_http(self, request: web.Request) -> web.Response:
        acks = self.handlers.inbox.acks
        acks.enter()
        try:
            verdict = precheck.check(await request.read(), request.content_type, dict(request.headers),
                                     self.config.signing_secret)
            if verdict.status == 200:
                return web.Response(status=200)
            if verdict.status:
                return web.json_response({"ok": False, "error": verdict.reason}, status=verdict.status)
            bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)
        finally:
            acks.leave()

    async def start(self, _web_app: web.Application) -> None:
        # One HTTP session for every Web API call (slack_sdk otherwise opens a connection per call).
        import aiohttp

        self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT))
        # Turns left unfinished by a process that died (or shut down) are picked up from the first moment.
        self.handlers.inbox.start(self.handlers.run_turn)
        if not self.config.socket_mode:
            return
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        # Created here: the Socket Mode client needs the running event loop.
        self.socket_handler = AsyncSocketModeHandler(self.bolt, app_token=self.config.app_token,
                                                     web_client=self.client,
                                                     ping_interval=self.config.socket_ping_interval)
        # The SDK keeps retrying until it connects; the web server (health checks, HTTP mode) does not wait for it.
        self._connecting = asyncio.get_running_loop().create_task(self._connect(), name="slack:socket-mode")

    async def _connect(self) -> None:
        assert self.socket_handler is not None
        await self.socket_handler.connect_async()
        log.info("Slack Socket Mode connected")

    async def stop(self, _web_app: web.Application) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self.socket_handler is not None:
            try:
                await self.socket_handler.close_async()
            except Exception as exc:  # noqa: BLE001
                log.warning("Socket Mode close failed", extra={"error": f"{exc.__class__.__name__}: {exc}"})
        await self.drain(self.config.shutdown_grace)
        await self.background.close(self.config.shutdown_grace)
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    async def drain(self, grace: float) -> None:
        """Shutdown: turns in flight finish within grace, the rest are released to another process."""
        await self.handlers.inbox.drain(grace)

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until every answer in progress has been delivered (used by tests and at shutdown)."""
        await self.background.idle(timeout)


SLACK_KEY = web.AppKey("slack_adapter", SlackAdapter)


def _unavailable(reason: str):  # noqa: ANN202
    async def handler(_request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error": "slack_not_configured", "detail": reason}, status=503)

    return handler


def mount(web_app: web.Application, app: App, *, config: SlackConfig | None = None) -> None:
    config = config or SlackConfig.from_env()
    misconfigured = config.enabled and not config.http_enabled and not config.socket_mode
    log.log(logging.WARNING if misconfigured else logging.INFO, config.status_line())
    if not config.enabled:
        web_app.router.add_post(EVENTS_PATH, _unavailable(
            "Slack is not configured on this server: SLACK_BOT_TOKEN is not set. See docs/slack.md."))
        return
    adapter = SlackAdapter(app, config)
    web_app[SLACK_KEY] = adapter
    if config.http_enabled:
        web_app.router.add_post(EVENTS_PATH, adapter.handle_http)
    else:
        web_app.router.add_post(EVENTS_PATH, _unavailable(
            "SLACK_SIGNING_SECRET is not set, so this server cannot verify that requests come from Slack and "
            "refuses them all. Set it from the app's Basic Information page, or use Socket Mode (SLACK_APP_TOKEN)."))
    web_app.on_startup.append(adapter.start)
    web_app.on_cleanup.append(adapter.stop)
    if DRAINS_KEY in web_app:
        web_app[DRAINS_KEY].append(adapter.drain)
