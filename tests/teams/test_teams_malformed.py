"""Malformed Teams activities: an adaptiveCard/action invoke with a missing or bad `value` gets a proper invoke
response with an error card; an activity without `conversation` gets 400; no traceback reaches the log."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.fakes import MemoryStore
from tests.teams import teams_activities as A


def card_action(service_url: str, value: Any = None, *, with_value: bool = True) -> dict[str, Any]:
    activity = A.personal_message(service_url, "")
    activity.update({"type": "invoke", "name": "adaptiveCard/action"})
    activity.pop("text", None)
    if with_value:
        activity["value"] = value
    return activity


def no_tracebacks(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("value, with_value", [
    (None, False),
    ({"action": 5}, True),
    ("not an object", True),
    ({"action": {"type": "Action.Submit", "data": {}}}, True),
], ids=["no-value", "action-is-a-number", "value-is-a-string", "not-action-execute"])
async def test_bad_card_action_values_get_an_error_card(start_bot, connector, caplog, value, with_value):
    caplog.set_level(logging.INFO)
    bot = await start_bot()
    response = await bot.post(card_action(connector.service_url, value, with_value=with_value))
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    text = body["value"]["body"][0]["text"]
    assert "couldn't process that card action" in text and body["value"]["body"][0]["color"] == "Attention"
    assert connector.requests == []
    no_tracebacks(caplog)


async def test_a_feedback_action_execute_is_recorded_and_thanked_in_the_card(start_bot, connector, caplog):
    store = MemoryStore()
    bot = await start_bot(store=store)
    value = {"action": {"type": "Action.Execute", "verb": "feedback",
                        "data": {"action": "feedback", "answer_id": "a1", "value": "up"}}}
    response = await bot.post(card_action(connector.service_url, value))
    body = await response.json()
    assert response.status == 200 and "Thanks" in body["value"]["body"][0]["text"]
    assert [(f[0], f[2], f[3]) for f in store.feedback] == [("a1", "up", "teams")]
    no_tracebacks(caplog)


@pytest.mark.parametrize("conversation", [None, {}], ids=["missing", "without-id"])
async def test_an_activity_without_a_conversation_gets_400(start_bot, connector, caplog, conversation):
    bot = await start_bot()
    activity = A.personal_message(connector.service_url, "hello")
    if conversation is None:
        del activity["conversation"]
    else:
        activity["conversation"] = conversation
    response = await bot.post(activity)
    assert response.status == 400
    assert "conversation" in (await response.json())["error"]
    await bot.endpoint.drain(timeout=5)
    assert connector.requests == []
    no_tracebacks(caplog)
