"""A Teams reply while login.microsoftonline.com hangs: our token credentials beside botframework's own.

Run: python -m bench.teams_reply_token [--replies N] [--hang SECONDS] [--timeout SECONDS]

Each reply is a real `conversations.send_to_conversation` through botframework's async ConnectorClient to the local
fake connector; the access token is requested through a local proxy that accepts and stays silent (for --hang
seconds, then drops the connection, so the baseline run ends). `/healthz`, served on the same event loop, is asked
from another thread meanwhile. Target (issue 13): the reply fails within the token timeout; /healthz unaffected.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import threading
import time

from aiohttp import web
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (AuthenticationConstants, MicrosoftAppCredentials,
                                         PasswordServiceClientCredentialFactory)

from adapters.teams.bot_tokens import BotTokenCredentialsFactory
from bench.teams_auth import SilentProxy, _healthz_from_thread
from tests.teams.teams_connector import FakeConnector

APP_ID = "c9e8c047-2a74-40a2-b28a-b162d5f5327c"
PASSWORD = "not-a-real-secret"


async def _credentials(ours: bool, timeout: float):  # noqa: ANN202
    if not ours:
        return MicrosoftAppCredentials(APP_ID, PASSWORD), None
    factory = BotTokenCredentialsFactory(PasswordServiceClientCredentialFactory(APP_ID, PASSWORD), timeout=timeout)
    credentials = await factory.create_credentials(APP_ID, AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                                                   AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX, True)
    return credentials, factory


async def run(label: str, replies: int, *, ours: bool, timeout: float) -> None:
    app = web.Application()
    app.router.add_get("/healthz", lambda _request: web.json_response({"status": "ok"}))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    health_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/healthz"  # type: ignore[union-attr]
    health: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_healthz_from_thread, args=(health_url, health, stop))
    watcher.start()
    latencies: list[float] = []
    outcomes: set[str] = set()
    async with FakeConnector() as connector:
        credentials, factory = await _credentials(ours, timeout)
        client = ConnectorClient(credentials, base_url=connector.service_url)
        await client.__aenter__()
        for _ in range(replies):
            began = time.perf_counter()
            try:
                await client.conversations.send_to_conversation("a:conv", Activity(type=ActivityTypes.message,
                                                                                   text="answer"))
                outcomes.add("sent")
            except Exception as exc:  # noqa: BLE001 - the outcome is what is measured
                outcomes.add(type(exc).__name__)
            latencies.append(time.perf_counter() - began)
        await client.__aexit__(None, None, None)
        if factory:
            await factory.close()
        sent = len(connector.requests)
    stop.set()
    await asyncio.to_thread(watcher.join)
    await runner.cleanup()
    health.sort()
    print(f"{label:<32} {','.join(sorted(outcomes)):>20} {sent:>5} {statistics.median(latencies) * 1000:>10.1f} "
          f"{max(latencies) * 1000:>10.1f} {max(health) * 1000 if health else float('nan'):>14.1f}")


async def main(replies: int, hang: float, timeout: float) -> None:
    logging.disable(logging.CRITICAL)
    url = SilentProxy(hang).start()
    for name in ("NO_PROXY", "no_proxy"):
        os.environ[name] = "127.0.0.1,localhost"  # the fake connector is reached directly
    os.environ["HTTPS_PROXY"] = os.environ["https_proxy"] = url
    print(f"teams reply token benchmark: {replies} replies, login.microsoftonline.com hanging {hang:g} s per "
          f"connection, our token timeout {timeout:g} s")
    print(f"{'credentials':<32} {'outcome':>20} {'sent':>5} {'median ms':>10} {'max ms':>10} {'/healthz max ms':>14}")
    await run("ours (bot_tokens)", replies, ours=True, timeout=timeout)
    await run("botframework MicrosoftAppCredentials", max(1, replies // 5), ours=False, timeout=timeout)
    print(f"target: a reply fails within the token timeout ({timeout:g} s) while the endpoint hangs; "
          "/healthz unaffected")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=10)
    parser.add_argument("--hang", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.replies, args.hang, args.timeout))
