"""The bot's own access token for its replies never blocks the loop and never hangs: obtained through the real MSAL
and botframework code, from a local login.microsoftonline.com (tests/teams/login_server.py) or through a proxy that
never answers (the outbound connection hangs, as the identity endpoint did in the report)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from botframework.connector.auth import AuthenticationConstants, PasswordServiceClientCredentialFactory

from adapters.teams.bot_tokens import BotTokenCredentialsFactory, BotTokenUnavailable
from adapters.teams.config import TeamsConfig
from tests.fakes import MemoryStore
from tests.teams import teams_activities as A
from tests.teams.login_server import LoginProxy, LoginServer, write_certificate
from tests.teams.test_teams_auth_keys import (CHANNEL_METADATA, _token, hanging_proxy,  # noqa: F401 - fixtures
                                              key_server)
from tests.teams.test_teams_security import APP_ID

PASSWORD = "not-a-real-secret"
FAST = 0.3  # seconds: a stalled loop would hold these requests for the whole token timeout or longer


def _config(token_timeout: float = 5.0) -> TeamsConfig:
    return TeamsConfig(app_id=APP_ID, app_password=PASSWORD, send_backoff=0.01, typing_interval=30,
                       token_timeout=token_timeout)


@pytest.fixture
async def login(tmp_path, monkeypatch):
    cert, key = write_certificate(tmp_path)
    async with LoginServer(cert, key) as server, LoginProxy(server) as proxy:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # MSAL (requests) trusts the local certificate
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, "127.0.0.1,localhost")
        for name in ("HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        yield server


async def _authenticated_bot(start_bot, key_server, config: TeamsConfig, store):
    """The real server with signing keys from the local key server, so genuine channel tokens authenticate."""
    metadata_url, signing_key = key_server
    bot = await start_bot(config, store=store)
    cache = bot.endpoint.keys.caches[CHANNEL_METADATA]
    cache.url = metadata_url
    assert await cache.refresh()
    cache.url = CHANNEL_METADATA
    return bot, signing_key


async def _post(bot, signing_key, connector, text: str, conversation: str = "a:conv-1"):
    activity = A.personal_message(connector.service_url, text, conversation=conversation)
    token = _token(signing_key, "good-kid", connector.service_url)
    return await bot.post(activity, headers={"Authorization": f"Bearer {token}"})


async def test_the_token_is_fetched_once_and_reused_across_replies(start_bot, connector, key_server, login):
    bot, signing_key = await _authenticated_bot(start_bot, key_server, _config(), MemoryStore())
    for i, text in enumerate(["orders query slow", "connection pool exhausted"]):
        response = await _post(bot, signing_key, connector, text, conversation=f"a:conv-{i}")
        assert response.status == 200
        await bot.endpoint.drain(timeout=10)
    assert login.unknown == []
    assert len(connector.messages()) == 2 and connector.typing()
    # Every request the connector received (typing and answers, both turns) carried the one token.
    assert {r.headers.get("Authorization") for r in connector.requests} == {"Bearer local-token-1"}
    assert len(login.token_requests) == 1
    request = login.token_requests[0]
    assert request["tenant"] == AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
    assert request["client_id"] == APP_ID and request["client_secret"] == PASSWORD
    assert request["scope"] == "https://api.botframework.com/.default"


async def test_the_token_is_refreshed_in_the_background_before_it_expires(login):
    login.expires_in = 2  # refreshed after half its life, handed out until a quarter before the end
    factory = BotTokenCredentialsFactory(PasswordServiceClientCredentialFactory(APP_ID, PASSWORD), timeout=5)
    try:
        # What the public cloud authentication passes (botframework _public_cloud_bot_framework_authentication.py).
        args = (APP_ID, AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX, True)
        first, second = await factory.create_credentials(*args), await factory.create_credentials(*args)
        assert first.source is second.source and len(factory.sources) == 1
        assert await first.source.get() == "local-token-1"
        assert first.get_access_token() == "local-token-1"  # the synchronous SDK path answers from the cache
        deadline = time.monotonic() + 5
        while len(login.token_requests) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(login.token_requests) == 2  # nobody asked: the refresh ran on its own
        assert await second.source.get() == "local-token-2"
    finally:
        await factory.close()


async def test_while_the_token_endpoint_hangs_the_server_answers_and_the_turn_fails_within_the_timeout(
        start_bot, connector, key_server, hanging_proxy, caplog):
    timeout = 1.0
    store = MemoryStore()
    bot, signing_key = await _authenticated_bot(start_bot, key_server, _config(timeout), store)
    caplog.set_level(logging.INFO, logger="adapters")
    assert (await _post(bot, signing_key, connector, "orders query slow")).status == 200
    deadline = time.monotonic() + 5
    while not bot.endpoint.credentials.sources and time.monotonic() < deadline:
        await asyncio.sleep(0.01)  # the turn starts in the background, just after the acknowledgement
    began = time.perf_counter()
    (source,) = bot.endpoint.credentials.sources.values()
    await asyncio.sleep(0.05)
    assert source.fetches == 1 and not source._fetch.done()  # the token request is hanging in the proxy
    while time.perf_counter() - began < 0.8 * timeout:
        t = time.perf_counter()
        assert (await bot.client.get("/healthz")).status == 200
        assert time.perf_counter() - t < FAST
        t = time.perf_counter()  # another conversation's message is acknowledged at once too
        assert (await _post(bot, signing_key, connector, "hi", conversation=f"a:other-{t}")).status == 200
        assert time.perf_counter() - t < FAST
    await bot.endpoint.drain(timeout=10)
    elapsed = time.perf_counter() - began
    assert 0.8 * timeout <= elapsed < timeout + 1.5, elapsed
    assert source.fetches == 1  # every turn waited on the one fetch; then they failed at once
    assert connector.requests == []  # nothing went out without a token
    failed = [r for r in caplog.records if r.getMessage() == "teams turn failed"]
    assert failed and all(isinstance(r.exc_info[1], BotTokenUnavailable) for r in failed)
    assert len(failed) == len([r for r in caplog.records if r.getMessage() == "teams apology could not be sent"])
    # Nobody got an answer or an apology, so no turn may be recorded as answered.
    assert store.inbox and {row[2] for row in store.inbox.values()} == {"failed"}
    assert len([r for r in caplog.records if r.getMessage() == "teams turn undelivered; recorded as failed"]) == len(
        store.inbox)
    warning = next(r for r in caplog.records if r.getMessage() == "bot framework access token could not be obtained")
    assert warning.error in ("timeout", "ProxyError", "ConnectionError", "ReadTimeout", "ConnectTimeout")
    assert PASSWORD not in caplog.text


async def test_a_refused_token_request_fails_at_once_and_is_not_repeated_for_a_few_seconds(login, caplog):
    login.refuse = True
    tenant = "7f3c1d52-0c41-4f0e-9a55-2f1b8e1f7a10"  # SingleTenant: MICROSOFT_APP_TENANT_ID decides the authority
    factory = BotTokenCredentialsFactory(PasswordServiceClientCredentialFactory(APP_ID, PASSWORD, tenant), timeout=5)
    caplog.set_level(logging.INFO, logger="adapters")
    try:
        credentials = await factory.create_credentials(
            APP_ID, AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX, True)
        with pytest.raises(BotTokenUnavailable, match="invalid_client"):
            await credentials.source.get()
        began = time.perf_counter()
        with pytest.raises(BotTokenUnavailable, match="moments ago"):
            await credentials.source.get()
        with pytest.raises(BotTokenUnavailable):
            credentials.get_access_token()  # the synchronous SDK path never calls out on the loop
        assert time.perf_counter() - began < FAST
        await asyncio.sleep(0.2)  # room for a stray background fetch to show up
        assert [r["tenant"] for r in login.token_requests] == [tenant]
        warning = next(r for r in caplog.records
                       if r.getMessage() == "bot framework access token could not be obtained")
        assert warning.error == "invalid_client" and "AADSTS7000215" in warning.detail
        assert warning.authority == f"https://login.microsoftonline.com/{tenant}"
        assert PASSWORD not in caplog.text
    finally:
        await factory.close()


async def test_in_authenticated_mode_an_activity_whose_process_died_is_replayed_with_the_bots_token(
        start_bot, connector, key_server, login):
    from botbuilder.schema import Activity

    from adapters.teams.handler import event_key

    store = MemoryStore()
    bot, _ = await _authenticated_bot(start_bot, key_server, _config(), store)
    activity = A.personal_message(connector.service_url, "how do I paginate a big table?")
    key = event_key(Activity().deserialize(activity))
    # Claimed and acknowledged by a process that died before answering: no channel token comes with a replay.
    assert await store.claim_turn(key, "teams", {"activity": activity}, "dead-process", lease=0)

    assert await bot.endpoint.inbox.resume_expired() == 1
    await bot.endpoint.drain(timeout=10)

    [answer] = connector.messages()
    assert answer.body["conversation"]["id"] == activity["conversation"]["id"]
    assert answer.body["replyToId"] == activity["id"] and store.inbox[key][2] == "answered"
    assert {r.headers.get("Authorization") for r in connector.requests} == {"Bearer local-token-1"}
    assert await bot.endpoint.inbox.resume_expired() == 0
