"""`consultant serve` as a process, configured only through the environment, against the fake Slack: the issue's
"done means" (a retried mention answered once, a DM answered, /schema-review acked at once and posted, forgeries
refused)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.slack.slack_payloads import SECRET, app_mention, event_callback, message, signed_headers, slash_command

CONSULTANT = shutil.which("consultant") or str(Path(sys.executable).with_name("consultant"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not Path(CONSULTANT).exists(), reason="the consultant entry point is not installed")
async def test_consultant_serve_with_slack_environment(tmp_path, slack):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "DATABASE_URL"))}
    env |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
            "CONSULTANT_DATA_DIR": str(tmp_path / "data"), "PORT": str(port)}
    proc = subprocess.Popen([CONSULTANT, "serve", "--host", "127.0.0.1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                await asyncio.sleep(0.1)

            mention = app_mention("<@UBOT> our orders API got slow after we added line items")
            body = json.dumps(event_callback(mention, event_id="EvSERVE1"))
            for attempt in range(3):
                retry = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else {}
                async with session.post(url, data=body, headers=signed_headers(body) | retry) as response:
                    assert response.status == 200
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                assert response.status == 401

            dm = json.dumps(event_callback(message("how do I paginate a large table?", channel="D7")))
            async with session.post(url, data=dm, headers=signed_headers(dm)) as response:
                assert response.status == 200

            command = slash_command("CREATE TABLE t (a int);", response_url=slack.response_url())
            started = time.monotonic()
            async with session.post(url, data=command, headers=signed_headers(
                    command, content_type="application/x-www-form-urlencoded")) as response:
                assert response.status == 200
            assert time.monotonic() - started < 3

            await slack.wait_for(lambda: len(slack.of("chat.update")) >= 2 and any(
                c.args.get("channel") == "D7" for c in slack.of("chat.postMessage")), timeout=20)
            await slack.wait_for(lambda: any(c.args.get("channel") == "C1" and "thread_ts" not in c.args
                                             for c in slack.of("chat.postMessage")), timeout=20)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0]
    mention_posts = [c for c in slack.of("chat.postMessage") if c.args.get("thread_ts") == mention["ts"]]
    assert len(mention_posts) == 1, output[-2000:]
    assert "Slack enabled: HTTP at POST /slack/events" in output
