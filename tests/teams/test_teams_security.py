"""Who may talk to the endpoint: Bot Framework tokens, the disabled default, and the dev-mode SSRF guard."""

from __future__ import annotations

import logging
import socket

import jwt
import pytest

from adapters.teams.config import TeamsConfig
from adapters.teams.mount import is_loopback_url, mount
from bot.errors import ConfigError
from tests.fakes import KeywordRetriever, MemoryStore
from tests.teams import teams_activities as A
from tests.teams.teams_connector import FakeConnector

APP_ID = "c9e8c047-2a74-40a2-b28a-b162d5f5327c"
AUTHENTICATED = TeamsConfig(app_id=APP_ID, app_password="not-a-real-secret")


def forged_token(issuer: str = "https://sts.example.com/") -> str:
    return jwt.encode({"iss": issuer, "aud": APP_ID, "serviceurl": "http://127.0.0.1/"}, "k" * 32,
                      algorithm="HS256", headers={"kid": "forged"})


@pytest.mark.parametrize("header", [
    None,
    "Bearer",
    "Basic dXNlcjpwYXNz",
    "Bearer not-a-jwt",  # botbuilder 4.17.1 answers 500 to this (jwt DecodeError)
    "Bearer eyJhbGciOiJSUzI1NiJ9.e30",  # truncated
    "FORGED",
])
async def test_with_an_app_id_requests_without_a_valid_token_get_401(start_bot, connector, header):
    store = MemoryStore()
    bot = await start_bot(AUTHENTICATED, store=store)
    if header == "FORGED":  # well-formed, but signed by someone the Bot Framework does not know
        header = "Bearer " + forged_token()
    headers = {"Authorization": header} if header else {}
    response = await bot.post(A.personal_message(connector.service_url, "hello"), headers=headers)
    assert response.status == 401
    assert "token" in (await response.json())["error"]
    await bot.endpoint.drain()
    assert connector.requests == [] and store.events == set() and store.turns_by_thread == {}


async def test_without_an_app_id_the_endpoint_is_disabled_with_an_explanation(connector, monkeypatch, settings,
                                                                               caplog):
    from aiohttp.test_utils import TestClient, TestServer

    from adapters.server import create_web_app
    from bot.bootstrap import build_app

    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "TEAMS_DEV_UNAUTHENTICATED"):
        monkeypatch.delenv(name, raising=False)
    app = await build_app(settings, store=MemoryStore(), retriever=KeywordRetriever([]))
    with caplog.at_level(logging.INFO, logger="adapters.teams"):
        web_app = create_web_app(app, mounts=[mount])  # the configuration comes from the environment
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("Teams disabled")]
    async with TestClient(TestServer(web_app)) as client:
        response = await client.post("/api/messages", json=A.personal_message(connector.service_url, "hi"))
        assert response.status == 503
        assert "MICROSOFT_APP_ID" in (await response.json())["error"]
    assert connector.requests == []


@pytest.mark.parametrize("service_url", [
    "http://10.0.0.7:3978/",
    "https://smba.trafficmanager.net/amer/",
    "http://127.0.0.1.nip.io/",
    "http://localhost@evil.example/",
    "http://[::ffff:10.0.0.7]/",
    "file:///etc/passwd",
    "",
])
async def test_dev_mode_refuses_non_loopback_service_urls(start_bot, connector, service_url):
    store = MemoryStore()
    bot = await start_bot(store=store)
    response = await bot.post(A.personal_message(service_url, "hello"))
    assert response.status == 403
    await bot.endpoint.drain()
    assert store.events == set() and store.turns_by_thread == {}


def _non_loopback_ipv4() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent; this only picks the outgoing interface
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


async def test_dev_mode_a_reachable_non_loopback_connector_receives_nothing(start_bot):
    address = _non_loopback_ipv4()
    if address is None:
        pytest.skip("no non-loopback IPv4 interface here")
    async with FakeConnector(host=address) as outside:
        bot = await start_bot()
        response = await bot.post(A.personal_message(outside.service_url, "hello"))
        await bot.endpoint.drain()
        assert response.status == 403 and outside.requests == []


@pytest.mark.parametrize("url,expected", [
    ("http://127.0.0.1:3978/", True), ("http://127.5.6.7/", True), ("http://localhost:1/", True),
    ("http://LOCALHOST/", True), ("http://[::1]:8080/", True), ("https://127.0.0.1/", True),
    ("http://128.0.0.1/", False), ("http://localhost.example.com/", False), ("ftp://127.0.0.1/", False),
    ("http://0.0.0.0/", False), ("http://[::]/", False), ("not a url", False), (None, False),
])
def test_loopback_check(url, expected):
    assert is_loopback_url(url) is expected


def test_config_from_env():
    config = TeamsConfig.from_env({"MICROSOFT_APP_ID": " " + APP_ID + " ", "MICROSOFT_APP_PASSWORD": "pw",
                                   "MICROSOFT_APP_TYPE": "singletenant", "MICROSOFT_APP_TENANT_ID": A.TENANT,
                                   "TEAMS_ALLOWED_TENANTS": f" {A.TENANT.upper()} , other ,"})
    assert config.app_id == APP_ID and config.app_type == "SingleTenant" and config.authenticated
    assert config.allowed_tenants == {A.TENANT, "other"}
    assert config.tenant_allowed(A.TENANT) and not config.tenant_allowed("third") and not config.tenant_allowed("")
    assert "pw" not in repr(config)
    dev = TeamsConfig.from_env({"TEAMS_DEV_UNAUTHENTICATED": "1"})
    assert dev.enabled and not dev.authenticated and dev.tenant_allowed("anything")
    assert not TeamsConfig.from_env({}).enabled
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        TeamsConfig.from_env({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "pw",
                              "MICROSOFT_APP_TYPE": "SingleTenant"})
    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD"):
        TeamsConfig.from_env({"MICROSOFT_APP_ID": APP_ID})
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TYPE"):
        TeamsConfig.from_env({"MICROSOFT_APP_TYPE": "Whatever"})
