"""Socket Mode against a local fake WebSocket: apps.connections.open gives its URL, an events_api envelope arrives,
the bot acks the envelope and answers through the Web API."""

from __future__ import annotations

import asyncio

from tests.slack.slack_payloads import app_mention, event_callback, slash_command
from tests.slack.slack_server import FakeSlack


async def _connected(bot, slack: FakeSlack) -> None:
    await asyncio.wait_for(slack.socket_connected.wait(), timeout=5)
    opened = slack.of("apps.connections.open")
    assert opened and opened[0].headers["Authorization"] == "Bearer xapp-test"


async def test_socket_mode_event_is_acked_and_answered(make_bot, slack):
    bot = await make_bot(app_token="xapp-test", signing_secret="")
    await _connected(bot, slack)
    event = app_mention("<@UBOT> our orders API got slow after we added line items", channel="C5")
    envelope = {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                "retry_attempt": 0, "retry_reason": "", "payload": event_callback(event, event_id="EvSOCKET1")}
    await slack.socket_send(envelope)
    await slack.wait_for(lambda: any(m.get("envelope_id") == "env-1" for m in slack.socket_received))
    await slack.wait_for(lambda: slack.of("chat.update"))
    await bot.settle()
    post = slack.of("chat.postMessage")
    assert len(post) == 1 and post[0].args["channel"] == "C5" and post[0].args["thread_ts"] == event["ts"]
    assert "N+1" in slack.of("chat.update")[-1].text()

    # A redelivery of the same event (Socket Mode retries carry retry_attempt) is acked but not answered again.
    await slack.socket_send({**envelope, "envelope_id": "env-2", "retry_attempt": 1, "retry_reason": "timeout"})
    await slack.wait_for(lambda: any(m.get("envelope_id") == "env-2" for m in slack.socket_received))
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 1

    # HTTP stays closed without a signing secret, even while Socket Mode works.
    response = await bot.post("{}", {"Content-Type": "application/json"})
    assert response.status == 503


async def test_socket_mode_slash_command_acks_with_the_envelope(make_bot, slack):
    bot = await make_bot(app_token="xapp-test")
    await _connected(bot, slack)
    from urllib.parse import parse_qsl

    payload = dict(parse_qsl(slash_command("", response_url=slack.response_url())))
    await slack.socket_send({"envelope_id": "env-cmd", "type": "slash_commands", "accepts_response_payload": True,
                             "payload": payload})
    await slack.wait_for(lambda: any(m.get("envelope_id") == "env-cmd" for m in slack.socket_received))
    await bot.settle()
    assert len(slack.of("views.open")) == 1


async def test_socket_mode_disconnects_on_shutdown(make_bot, slack):
    bot = await make_bot(app_token="xapp-test")
    await _connected(bot, slack)
    await bot.client.close()
    await asyncio.sleep(0.05)
    assert slack._ws is not None and slack._ws.closed
