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
    import asyncio
    import logging
    import signal

    from aiohttp import web

    from adapters.server import create_web_app
    from bot.bootstrap import build_app

    app = await build_app()
    runner = web.AppRunner(create_web_app(app), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    logging.getLogger("adapters.server").info("serving", extra={"host": host, "port": port,
                                                                  "mode": "llm" if app.settings.llm_enabled else "offline"})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
