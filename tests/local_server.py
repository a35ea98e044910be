"""Starting an aiohttp app on a free loopback port, shared by the fake OpenAI, Slack and Bot Framework servers."""

from __future__ import annotations

from aiohttp import web


async def start(app: web.Application, host: str = "127.0.0.1") -> tuple[web.AppRunner, int]:
    """Run `app` on an OS-chosen port; returns the runner (for cleanup) and the port."""
    # Cancel in-flight handlers at shutdown, so a scripted slow response never delays a test's teardown.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
