"""`consultant serve`: one aiohttp server for Slack (HTTP and Socket Mode) and Teams."""

from __future__ import annotations

import argparse
import os


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run the Slack and Teams server")
    serve.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"), help="bind address (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None, help="port (default $PORT, else 3000)")
    serve.set_defaults(run=_serve, log_default="INFO")


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from bot.errors import ConfigError

    port = args.port
    if port is None:
        raw = os.environ.get("PORT", "3000")
        try:
            port = int(raw)
        except ValueError:
            raise ConfigError(f"PORT must be a number, got {raw!r}") from None
    asyncio.run(_run(args.host, port))
    return 0


async def _run(host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT, then shut down without losing a turn.

    The database is migrated first (under the migration lock), so events are never accepted on a schema this code
    cannot use. On a signal: stop accepting connections, let turns in flight finish within
    CONSULTANT_SHUTDOWN_GRACE, release the leases of those that cannot (another replica or the next start resumes
    them at once), then close.
    """
    import asyncio
    import logging
    import signal

    from aiohttp import web

    from adapters.http_guard import GuardedSite
    from adapters.server import create_web_app, drain
    from bot.bootstrap import build_app

    log = logging.getLogger("adapters.server")
    app = await build_app(migrate=True, serving=True)
    await app.store.ping()  # connections are open before the first ack needs one
    settings = app.settings
    web_app = create_web_app(app)
    # The drain below already waited for the turns; aiohttp's own shutdown only closes idle connections.
    runner = web.AppRunner(web_app, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    site = GuardedSite(runner, host, port, header_timeout=settings.header_timeout)
    await site.start()
    log.info("serving", extra={"host": host, "port": site.port, "mode": "llm" if settings.llm_enabled else "offline",
                               "instance": app.instance_id})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("shutting down: no new connections; finishing turns in flight",
                 extra={"grace": settings.shutdown_grace})
        await site.stop()
        await drain(web_app, settings.shutdown_grace)
    finally:
        await runner.cleanup()
        log.info("stopped")
