"""manifest.yml and the Procfile match what the adapter does."""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.slack.handlers import REVIEW_SLASH_COMMAND

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_declares_what_the_adapter_uses():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert manifest["_metadata"]["major_version"] in (1, 2)
    features, settings = manifest["features"], manifest["settings"]
    assert features["bot_user"]["display_name"]
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["app_home"]["messages_tab_read_only_enabled"] is False
    [command] = features["slash_commands"]
    assert command["command"] == REVIEW_SLASH_COMMAND and command["usage_hint"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "message.channels", "message.groups"}
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted([
        "app_mentions:read", "chat:write", "commands", "im:history", "files:read", "channels:history",
        "groups:history", "assistant:write"])
    assert "user" not in manifest["oauth_config"]["scopes"]  # a bot only; no user token
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000
    assert len(manifest["display_information"]["description"]) <= 140


def test_procfile():
    lines = (ROOT / "Procfile").read_text().splitlines()
    assert lines == ["web: consultant serve --host 0.0.0.0 --port $PORT", "release: consultant db upgrade"]
