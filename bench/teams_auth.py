"""Teams token checks while the Bot Framework key endpoint hangs: ours beside botframework's own key cache.

Run: python -m bench.teams_auth [--requests N] [--hang SECONDS]

Outbound HTTPS goes through a local proxy that accepts and stays silent (for --hang seconds, then drops the
connection, so the baseline run ends). Prints the latency of forged-token requests and of /healthz asked from
another thread at the same time. Target (issue 13): a forged token answered within 100 ms; /healthz unaffected.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socketserver
import statistics
import tempfile
import threading
import time
import urllib.request

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.server import create_web_app
from adapters.teams.config import TeamsConfig
from adapters.teams.mount import TEAMS_KEY, mount
from bot.bootstrap import build_app
from bot.config import Settings
from tests.fakes import FAKE_NOTES, KeywordRetriever, MemoryStore
from tests.teams import teams_activities as A

APP_ID = "c9e8c047-2a74-40a2-b28a-b162d5f5327c"
CONFIG = TeamsConfig(app_id=APP_ID, app_password="not-a-real-secret")


class SilentProxy:
    """Runs in its own threads, so it keeps its promise (silence, then a close) even when the event loop blocks."""

    def __init__(self, hang: float) -> None:
        hang_for = hang

        class Silent(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                time.sleep(hang_for)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Silent)
        self.server.daemon_threads = True

    def start(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _forged_token() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": int(time.time()) + 600}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "forged"})


def _healthz_from_thread(url: str, results: list[float], stop: threading.Event) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while not stop.is_set():
        began = time.perf_counter()
        try:
            opener.open(url, timeout=30).read()
        except OSError:
            pass
        results.append(time.perf_counter() - began)
        time.sleep(0.01)


def _stale_cached_keys(endpoint) -> None:  # noqa: ANN001
    """Keys obtained a day ago (so a refresh is due, and hangs): one real JWK, not the forger's."""
    import json

    from jwt.algorithms import RSAAlgorithm

    from adapters.teams.keys import METADATA_URLS

    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    jwk = json.loads(RSAAlgorithm.to_jwk(public)) | {"kid": "forged", "endorsements": ["msteams"]}
    cache = endpoint.keys.caches[METADATA_URLS[0]]
    cache.keys, cache.fetched_at = [jwk], time.monotonic() - 2 * 24 * 3600


async def run(label: str, requests: int, *, ours: bool, cached: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = await build_app(Settings.from_env({"CONSULTANT_DATA_DIR": tmp, "CONSULTANT_RETENTION_DAYS": "0"}),
                              store=MemoryStore(), retriever=KeywordRetriever(FAKE_NOTES))
        web_app = create_web_app(app, mounts=[lambda w, a: mount(w, a, config=CONFIG)])
        endpoint = web_app[TEAMS_KEY]
        if cached:
            _stale_cached_keys(endpoint)
        if not ours:  # botframework's own blocking key cache
            await endpoint.keys.close()
            endpoint.keys = None
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        health: list[float] = []
        stop = threading.Event()
        watcher = threading.Thread(target=_healthz_from_thread, args=(base + "/healthz", health, stop))
        watcher.start()
        token = _forged_token()
        activity = A.personal_message("https://smba.trafficmanager.net/amer/", "hi")
        import aiohttp

        latencies: list[float] = []
        statuses: set[int] = set()
        async with aiohttp.ClientSession() as session:
            for _ in range(requests):
                began = time.perf_counter()
                async with session.post(base + "/api/messages", json=activity,
                                        headers={"Authorization": f"Bearer {token}"}) as response:
                    statuses.add(response.status)
                latencies.append(time.perf_counter() - began)
        stop.set()
        await asyncio.to_thread(watcher.join)
        await runner.cleanup()
    latencies.sort()
    health.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"{label:<34} {sorted(statuses)!s:>8} {statistics.median(latencies) * 1000:>10.1f} {p95 * 1000:>10.1f} "
          f"{max(health) * 1000 if health else float('nan'):>14.1f}")


async def main(requests: int, hang: float) -> None:
    logging.disable(logging.CRITICAL)  # every rejected request logs a warning; the table is the output
    proxy = SilentProxy(hang)
    url = proxy.start()
    for name in ("NO_PROXY", "no_proxy"):
        os.environ.pop(name, None)
    os.environ["HTTPS_PROXY"] = os.environ["https_proxy"] = url
    print(f"teams auth benchmark: {requests} forged-token requests, key endpoint hanging {hang:g} s per connection")
    print(f"{'key cache':<34} {'status':>8} {'median ms':>10} {'p95 ms':>10} {'/healthz max ms':>14}")
    await run("ours, keys never obtained", requests, ours=True)
    await run("ours, cached keys, refresh hanging", requests, ours=True, cached=True)
    await run("botframework _OpenIdMetadata", max(2, requests // 10), ours=False)
    print("target: forged token answered within 100 ms while the key endpoint hangs; /healthz unaffected")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--hang", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.hang))
