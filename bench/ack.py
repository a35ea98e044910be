"""Slack ack latency under load: `consultant serve` against a bare Bolt app, in one run.

Run (from the repository root): python -m bench.ack [--events 200] [--concurrency 20] [--llm-delay 2]
                                                    [--database sqlite|postgres|both]
PostgreSQL needs CONSULTANT_BENCH_DATABASE_URL or CONSULTANT_TEST_DATABASE_URL (a fresh database is created and
dropped). Each server runs as its own process; the load comes from a third process, so neither the fake Slack and
LLM servers (in this process) nor the load generator share an event loop with the server being measured.

- bare Bolt: an AsyncApp (process_before_response, signature checks) whose app_mention listener only spawns a task
  that waits the LLM delay and posts a reply: the floor for any Bolt app on this machine.
- ours: the real `consultant serve` (migrations, inbox claim, dedupe, the turn with the LLM at the fake OpenAI
  server answering after --llm-delay seconds, streaming to the fake Slack).

It prints p50/p95/p99/max of the HTTP ack per server, and how many events got their answer (all must), and
checks the goal: p99 <= 100 ms and <= 2x bare Bolt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

SECRET = "bench-signing-secret"
GOAL_MS, GOAL_RATIO = 100.0, 2.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the bare Bolt app (its own process) ----------------------------------------------------------------------

async def bare_bolt(port: int, slack_api: str, llm_delay: float) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-bench", base_url=slack_api)
    bolt = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)
    tasks: set[asyncio.Task] = set()

    async def reply(event: dict) -> None:
        await asyncio.sleep(llm_delay)
        await client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="answer")

    @bolt.event("app_mention")
    async def on_mention(event: dict) -> None:
        task = asyncio.get_running_loop().create_task(reply(event))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


# ---- the load generator (its own process) ---------------------------------------------------------------------

def _mention(i: int, run: str) -> tuple[str, dict]:
    ts = f"1800000{i:03d}.{os.getpid() % 1000:03d}100"
    event = {"type": "app_mention", "text": f"<@UBOT> our orders API got slow after we added line items ({i})",
             "user": "U1", "ts": ts, "event_ts": ts, "channel": "C1", "team": "T1"}
    return f"Ev{run}{i:05d}", event


async def load(url: str, events: int, concurrency: int) -> None:
    import aiohttp
    from slack_sdk.signature import SignatureVerifier

    run = uuid.uuid4().hex[:6]
    verifier = SignatureVerifier(SECRET)
    bodies = []
    for i in range(events):
        event_id, event = _mention(i, run)
        bodies.append(json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": event,
                                  "event_id": event_id, "event_time": int(time.time()),
                                  "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}]}))
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    failures: list[int] = []

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                       "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body)}
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    failures.append(response.status)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*[worker(session) for _ in range(concurrency)])
    print(json.dumps({"latencies": latencies, "failures": failures}))


# ---- the driver -----------------------------------------------------------------------------------------------

async def _wait_healthy(url: str, proc: asyncio.subprocess.Process, timeout: float = 60) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


async def measure(label: str, command: list[str], env: dict[str, str], port: int, args: argparse.Namespace,
                  log_dir: Path, answered) -> dict:  # noqa: ANN001
    log_path = log_dir / f"{label.replace(' ', '_')}.log"
    with open(log_path, "wb") as out:
        server = await asyncio.create_subprocess_exec(*command, env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_healthy(url, server)
        loader = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.ack", "--load", f"{url}/slack/events", "--events", str(args.events),
            "--concurrency", str(args.concurrency), stdout=asyncio.subprocess.PIPE)
        result = json.loads((await loader.communicate())[0])
        deadline = time.monotonic() + args.llm_delay + 30
        while answered() < args.events and time.monotonic() < deadline:  # every event must also be answered
            await asyncio.sleep(0.2)
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 30)
            except TimeoutError:
                server.kill()
    latencies = sorted(result["latencies"])
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"label": label, "p50": q[49], "p95": q[94], "p99": q[98], "max": latencies[-1],
            "failures": len(result["failures"]), "answered": answered()}


async def _postgres_database(admin_url: str):  # noqa: ANN202
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"bench_ack_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


async def run(args: argparse.Namespace) -> int:
    from tests.openai_server import FakeOpenAIServer, Scripted
    from tests.slack.slack_server import FakeSlack

    consultant = str(Path(sys.executable).with_name("consultant"))
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp:
        tmp_path = Path(tmp)
        async with FakeSlack() as slack, FakeOpenAIServer(Scripted(
                text="Add an index on orders (customer_id), then measure again with EXPLAIN ANALYZE.",
                delay=args.llm_delay)) as openai:
            port = _free_port()
            calls_before = len(slack.calls)
            results.append(await measure("bare Bolt", [sys.executable, "-m", "bench.ack", "--bare-bolt", str(port),
                                                       "--slack-api", slack.api_url, "--llm-delay",
                                                       str(args.llm_delay)],
                                         dict(os.environ), port, args, tmp_path,
                                         lambda: len([c for c in slack.calls[calls_before:]
                                                      if c.method == "chat.postMessage"])))
            databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
            for database in databases:
                env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "DATABASE_URL"))}
                env |= {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
                        "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": openai.base_url, "LOG_LEVEL": "WARNING",
                        "CONSULTANT_DATA_DIR": str(tmp_path / database), "CONSULTANT_SHUTDOWN_GRACE": "20"}
                drop = None
                if database == "postgres":
                    admin = os.environ.get("CONSULTANT_BENCH_DATABASE_URL") or os.environ.get(
                        "CONSULTANT_TEST_DATABASE_URL")
                    if not admin:
                        print("postgres: skipped (set CONSULTANT_BENCH_DATABASE_URL or CONSULTANT_TEST_DATABASE_URL)")
                        continue
                    env["DATABASE_URL"], drop = await _postgres_database(admin)
                port = _free_port()
                before = set(slack.posted)

                def answered(before: set[str] = before) -> int:
                    return sum(1 for ts, m in slack.posted.items() if ts not in before and
                               (m["metadata"] or {}).get("event_type") == "consultant_answer")

                try:
                    results.append(await measure(f"ours ({'SQLite WAL' if database == 'sqlite' else 'PostgreSQL'})",
                                                 [consultant, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                                 env, port, args, tmp_path, answered))
                finally:
                    if drop:
                        await drop()
    print(f"\nSlack ack latency: {args.events} app_mention events at concurrency {args.concurrency}, "
          f"LLM {args.llm_delay:g} s (ms)")
    print(f"{'server':<24}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'non-200':>9}{'answered':>10}")
    for r in results:
        print(f"{r['label']:<24}{r['p50']:>8.1f}{r['p95']:>8.1f}{r['p99']:>8.1f}{r['max']:>8.1f}{r['failures']:>9}"
              f"{r['answered']:>10}")
    bare = results[0]["p99"]
    ok = True
    for r in results[1:]:
        ratio = r["p99"] / bare if bare else float("inf")
        met = r["p99"] <= GOAL_MS and ratio <= GOAL_RATIO and not r["failures"] and r["answered"] == args.events
        ok &= met
        print(f"{r['label']}: p99 {r['p99']:.1f} ms = {ratio:.2f}x bare Bolt "
              f"(goal <= {GOAL_MS:g} ms and <= {GOAL_RATIO:g}x): {'met' if met else 'NOT met'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--llm-delay", type=float, default=2.0)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--bare-bolt", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--slack-api", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_bolt:
        asyncio.run(bare_bolt(args.bare_bolt, args.slack_api, args.llm_delay))
        return 0
    if args.load:
        asyncio.run(load(args.load, args.events, args.concurrency))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
