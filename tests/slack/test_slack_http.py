"""The HTTP endpoint: url_verification, signature checks, configuration errors, idempotency, Slack's 429s."""

from __future__ import annotations

import json
import logging
import time
from functools import partial

from aiohttp.test_utils import TestClient, TestServer

from adapters.server import create_web_app
from adapters.slack.config import SlackConfig
from adapters.slack.mount import mount
from bot.store.migrate import upgrade
from bot.store.sql import SqlStore
from tests.slack.conftest import make_app, slack_config
from tests.slack.slack_payloads import app_mention, event_callback, signed_headers
from tests.slack.slack_server import Scripted


async def test_url_verification_answers_the_challenge(bot):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    response = await bot.post(body, signed_headers(body))
    assert response.status == 200
    assert (await response.json())["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


async def test_forged_requests_get_401_and_no_reply(bot):
    body = json.dumps(event_callback(app_mention("<@UBOT> hello")))
    good = signed_headers(body)
    forged = [
        {**good, "X-Slack-Signature": "v0=" + "0" * 64},  # bad signature
        signed_headers(body, secret="not-the-secret"),  # signed with another secret
        signed_headers(body, timestamp=int(time.time()) - 6 * 60),  # stale: more than 5 minutes old
        {"Content-Type": "application/json"},  # no signature headers at all
        {"Content-Type": "application/json", "X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]},
    ]
    for headers in forged:
        response = await bot.post(body, headers)
        assert response.status == 401, headers
    # A tampered body with the original signature is refused too.
    response = await bot.post(body.replace("hello", "goodbye"), good)
    assert response.status == 401
    await bot.settle()
    assert bot.slack.replies() == []


async def test_missing_signing_secret_answers_503_and_never_accepts_unsigned(make_bot, caplog):
    caplog.set_level(logging.INFO, logger="adapters.slack")
    bot = await make_bot(signing_secret="")
    body = json.dumps(event_callback(app_mention("<@UBOT> hello")))
    for headers in ({"Content-Type": "application/json"}, signed_headers(body)):
        response = await bot.post(body, headers)
        assert response.status == 503
        assert "SLACK_SIGNING_SECRET" in (await response.json())["detail"]
    assert bot.slack.calls == []
    assert any("SLACK_SIGNING_SECRET" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


async def test_without_slack_variables_the_server_runs_without_slack(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="adapters.slack")
    app = await make_app(tmp_path)
    web_app = create_web_app(app, mounts=[partial(mount, config=SlackConfig.from_env({}))])
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        assert (await client.get("/healthz")).status == 200
        response = await client.post("/slack/events", data=b"{}")
        assert response.status == 503
    lines = [r.getMessage() for r in caplog.records if r.name == "adapters.slack"]
    assert len(lines) == 1 and "Slack disabled: SLACK_BOT_TOKEN is not set" in lines[0]


def test_config_reads_the_environment():
    config = SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                   "SLACK_APP_TOKEN": "xapp-1", "SLACK_API_URL": "http://proxy.local/api"})
    assert (config.bot_token, config.signing_secret, config.app_token) == ("xoxb-1", "s", "xapp-1")
    assert config.api_url == "http://proxy.local/api/"
    assert config.http_enabled and config.socket_mode
    assert SlackConfig.from_env({}).api_url == "https://slack.com/api/"
    assert "xoxb-1" not in repr(config) and "xapp-1" not in repr(config)


async def test_retried_event_is_answered_exactly_once(bot):
    event = app_mention("<@UBOT> our orders API got slow after adding line items")
    first = await bot.event(event, event_id="Ev0RETRY")
    assert first.status == 200
    for attempt in (1, 2):
        response = await bot.event(event, event_id="Ev0RETRY", headers={
            "X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"})
        assert response.status == 200
    await bot.settle()
    assert len(bot.slack.of("chat.postMessage")) == 1  # the placeholder, then edited into the answer
    assert len(bot.slack.of("chat.update")) == 1
    assert bot.slack.of("chat.postMessage")[0].args["thread_ts"] == event["ts"]


async def test_duplicate_is_refused_by_the_database_across_restarts(tmp_path, slack):
    """Two server instances (a restart, or two replicas) share the processed-events table: one answer only."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    event = app_mention("<@UBOT> we charge customers twice when two workers run")
    body = json.dumps(event_callback(event, event_id="Ev0SHARED"))
    for attempt in range(2):
        store = SqlStore.from_url(url)
        await upgrade(store.engine)
        app = await make_app(tmp_path, store=store)
        web_app = create_web_app(app, mounts=[partial(mount, config=slack_config(slack))])
        async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
            headers = signed_headers(body) | ({"X-Slack-Retry-Num": "1"} if attempt else {})
            response = await client.post("/slack/events", data=body.encode(), headers=headers)
            assert response.status == 200
            from adapters.slack.mount import SLACK_KEY

            await web_app[SLACK_KEY].idle(10)
    assert len(slack.of("chat.postMessage")) == 1


async def test_slack_429_is_retried_after_retry_after(bot):
    bot.slack.script("chat.postMessage", Scripted(status=429, headers={"Retry-After": "1"}))
    event = app_mention("<@UBOT> how do I paginate a large table?")
    await bot.event(event)
    await bot.settle()
    posts = bot.slack.of("chat.postMessage")
    assert len(posts) == 2  # the rate-limited attempt and its retry
    assert posts[1].at - posts[0].at >= 1.0
    assert bot.slack.of("chat.update"), "the answer was delivered after the retry"


async def test_message_text_is_not_logged_at_info(make_bot, caplog):
    """Bolt logs the body of a refused request at INFO; the adapter keeps Bolt at the level serve gives it."""
    bolt_logger = logging.getLogger("slack_bolt")
    previous = bolt_logger.level
    bolt_logger.setLevel(logging.WARNING)  # what configure_logging does for serve
    try:
        caplog.set_level(logging.INFO)
        bot = await make_bot()
        body = json.dumps(event_callback(app_mention("<@UBOT> secret plans for the orders table")))
        assert (await bot.post(body, {"Content-Type": "application/json"})).status == 401
        await bot.event(app_mention("<@UBOT> secret plans for the orders table"))
        await bot.settle()
    finally:
        bolt_logger.setLevel(previous)
    assert not [r for r in caplog.records if "secret plans" in r.getMessage()]
