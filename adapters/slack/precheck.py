"""Slack requests Bolt must never see: bodies it cannot parse (400), and signed events of a shape it cannot handle.

Bolt parses the body before it verifies the signature and answers 500 (with a traceback) when parsing fails, and
Slack retries 500s. So every body is decoded and parsed here first: undecodable or unparseable ones get 400,
signed or not. A body that parses but whose `event` is not an object is answered 200 if its signature is valid (so
Slack does not retry it) and 401 if not; either way it is logged once, without a traceback.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("adapters.slack")


@dataclass(frozen=True)
class Verdict:
    status: int  # 0: hand the request to Bolt
    reason: str = ""


def _json_object(text: str, what: str) -> dict[str, Any] | str:
    try:
        value = json.loads(text)
    except RecursionError:
        return f"{what} is nested too deeply"
    except ValueError as exc:
        return f"{what} is not valid JSON ({exc.msg} at position {exc.pos})"
    if not isinstance(value, dict):
        return f"{what} is not a JSON object"
    return value


def parse(raw: bytes, content_type: str) -> dict[str, Any] | str:
    """The request as Bolt would parse it, or why it cannot be parsed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8 text"
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(text, keep_blank_values=True, max_num_fields=1000)
        except ValueError as exc:
            return f"the form body cannot be parsed ({exc})"
        if "payload" in form:
            return _json_object(form["payload"][0], "the payload field")
        return {key: values[0] for key, values in form.items()}
    if not text.strip():
        return "the body is empty"
    return _json_object(text, "the body")


def shape_problem(body: dict[str, Any]) -> str | None:
    if "event" in body and not isinstance(body["event"], dict):
        return f"`event` is a {type(body['event']).__name__}, not an object"
    if body.get("type") == "event_callback" and "event" not in body:
        return "an event_callback without `event`"
    return None


def _timestamp(headers: dict[str, str]) -> str:
    return headers.get("X-Slack-Request-Timestamp", "").strip()


def signed(raw: bytes, headers: dict[str, str], signing_secret: str) -> bool:
    from slack_sdk.signature import SignatureVerifier

    timestamp = _timestamp(headers)
    if not timestamp.isdigit():
        return False
    return SignatureVerifier(signing_secret).is_valid(body=raw.decode("utf-8"), timestamp=timestamp,
                                                      signature=headers.get("X-Slack-Signature", ""))


def check(raw: bytes, content_type: str, headers: dict[str, str], signing_secret: str) -> Verdict:
    parsed = parse(raw, content_type)
    if isinstance(parsed, str):
        log.warning("malformed Slack request rejected", extra={"reason": parsed, "bytes": len(raw)})
        return Verdict(400, f"Malformed request: {parsed}.")
    timestamp = _timestamp(headers)
    if timestamp and not timestamp.isdigit():  # Bolt's verifier would raise on int(timestamp): a 500
        return Verdict(401, "Invalid request signature.")
    problem = shape_problem(parsed)
    if problem is None:
        return Verdict(0)
    if not signed(raw, headers, signing_secret):
        return Verdict(401, "Invalid request signature.")
    log.warning("Slack event of an unexpected shape ignored",
                extra={"reason": problem, "event_id": parsed.get("event_id") if isinstance(parsed.get("event_id"), str)
                       else None})
    return Verdict(200, "ignored: " + problem)
