"""Malformed Slack requests: 400 before Bolt for bodies that cannot be parsed (signed or not), 200-and-ignored for
signed events of an unexpected shape, and never a 5xx or a traceback in the log."""

from __future__ import annotations

import json
import logging

import pytest

from tests.slack.slack_payloads import app_mention, event_callback, signed_headers

FORM = "application/x-www-form-urlencoded"
DEEP = "[" * 100_000 + "]" * 100_000


def no_tracebacks(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b"payload=%7Bnot-json", FORM),
    (b"{\xff\xfe\x00binary", "application/json"),
    (DEEP.encode(), "application/json"),
    (b"[1, 2]", "application/json"),
    (b"", "application/json"),
], ids=["bad-json", "bad-payload-form", "binary", "nested-100k", "not-an-object", "empty"])
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
async def test_unparseable_bodies_get_400_before_bolt(bot, caplog, body, content_type, signed):
    caplog.set_level(logging.INFO)
    headers = {"Content-Type": content_type}
    if signed:
        headers = signed_headers(body.decode("latin-1"), content_type=content_type)
    response = await bot.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 400
    assert "Malformed request" in (await response.json())["error"]
    no_tracebacks(caplog)


@pytest.mark.parametrize("event", ["app_mention", ["app_mention"]], ids=["string", "list"])
async def test_signed_event_that_is_not_an_object_is_acked_ignored_and_logged_once(bot, caplog, event):
    caplog.set_level(logging.INFO)
    body = json.dumps({**event_callback({}), "event": event})
    response = await bot.post(body, signed_headers(body))
    assert response.status == 200
    unsigned = await bot.post(body, {"Content-Type": "application/json"})
    assert unsigned.status == 401
    assert [r.getMessage() for r in caplog.records].count("Slack event of an unexpected shape ignored") == 1
    assert bot.slack.replies() == []
    no_tracebacks(caplog)


@pytest.mark.parametrize("missing", ["channel", "ts"])
async def test_signed_mention_without_channel_or_ts_is_acked_ignored_and_logged_once(bot, caplog, missing):
    caplog.set_level(logging.INFO)
    event = app_mention("<@UBOT> hello")
    del event[missing]
    response = await bot.event(event)
    await bot.settle()
    assert response.status == 200
    assert [r.getMessage() for r in caplog.records].count("Slack event of an unexpected shape ignored") == 1
    assert bot.slack.replies() == []
    no_tracebacks(caplog)


async def test_a_non_numeric_signature_timestamp_is_401_not_500(bot, caplog):
    body = json.dumps(event_callback(app_mention("<@UBOT> hi")))
    response = await bot.post(body, signed_headers(body) | {"X-Slack-Request-Timestamp": "soon"})
    assert response.status == 401
    no_tracebacks(caplog)
