"""Slack settings from the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    # Seconds between chat.update calls when streaming falls back to editing a message.
    update_interval: float = 1.0
    # Streamed text is sent in pieces of at least this many characters, or after stream_interval seconds.
    stream_chunk_chars: int = 120
    stream_interval: float = 0.5
    # On shutdown, answers in progress get this long to finish before they are cancelled.
    shutdown_grace: float = 10.0
    # Socket Mode ping interval (seconds); also how long the SDK waits between reconnection attempts.
    socket_ping_interval: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SlackConfig:
        env = dict(os.environ if env is None else env)
        api_url = (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
        return cls(
            bot_token=(env.get("SLACK_BOT_TOKEN") or "").strip(),
            signing_secret=(env.get("SLACK_SIGNING_SECRET") or "").strip(),
            app_token=(env.get("SLACK_APP_TOKEN") or "").strip(),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
        )

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def http_enabled(self) -> bool:
        return self.enabled and bool(self.signing_secret)

    @property
    def socket_mode(self) -> bool:
        return self.enabled and bool(self.app_token)

    def status_line(self) -> str:
        """The one log line that says how Slack runs, or why it does not."""
        if not self.enabled:
            present = [n for n, v in (("SLACK_SIGNING_SECRET", self.signing_secret),
                                      ("SLACK_APP_TOKEN", self.app_token)) if v]
            extra = f" ({' and '.join(present)} set but unused)" if present else ""
            return ("Slack disabled: SLACK_BOT_TOKEN is not set" + extra
                    + "; set it with SLACK_APP_TOKEN (Socket Mode) "
                    "or SLACK_SIGNING_SECRET (HTTP at /slack/events). See docs/slack.md.")
        modes = []
        if self.socket_mode:
            modes.append("Socket Mode")
        if self.http_enabled:
            modes.append("HTTP at POST /slack/events")
        if not modes:
            return ("Slack HTTP mode is missing SLACK_SIGNING_SECRET: POST /slack/events answers 503 until it is set "
                    "(or set SLACK_APP_TOKEN for Socket Mode). See docs/slack.md.")
        note = "" if self.http_enabled else " (POST /slack/events answers 503: SLACK_SIGNING_SECRET is not set)"
        return f"Slack enabled: {' and '.join(modes)}, Web API at {self.api_url}{note}"
