"""The serviceUrl guard: refused with 403 before any outbound request, judged on what the HTTP client would use."""

from __future__ import annotations

import pytest

from adapters.teams.service_url import service_url_problem, shape_problem
from tests.fakes import MemoryStore
from tests.teams import teams_activities as A
from tests.teams.test_teams_security import AUTHENTICATED, _non_loopback_ipv4, forged_token

# {p} is the live connector's port: each URL would reach it (or a neighbour) if the guard let it through.
REFUSED = [
    "http://127.0.0.1:{p}\\@127.0.0.1:1/",  # the reported bypass: urlsplit and urllib3 disagree on the host
    "http://evil.example:{p}\\@127.0.0.1:1/",
    "http://127.0.0.1:{p}/\\\\evil.example/",
    "http://user:secret@127.0.0.1:{p}/",
    "http://127.0.0.1:{p}@127.0.0.1:{p}/",
    "http://@127.0.0.1:{p}/",
    "http://127.0.0.1:{p}/ x",
    "http://127.0.0.1:{p}/\r\nHost: evil",
    "ftp://127.0.0.1:{p}/",
    "gopher://127.0.0.1:{p}/_",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "//127.0.0.1:{p}/",
    "http://[::ffff:10.0.0.7]:{p}/",
    "http://[fd00::1]:{p}/",
    "http://[::]:{p}/",
    "http://167772167:{p}/",  # 10.0.0.7 as a decimal integer
    "http://2852039166/",  # 169.254.169.254, the cloud metadata service
    "http://0xa9fea9fe/",
    "http://0.0.0.0:{p}/",
    "http://10.0.0.7:{p}/",
    "http://metadata.internal:{p}/",  # resolves elsewhere (see the resolver below)
    "http://split.internal:{p}/",  # resolves to loopback AND elsewhere
    "http://nowhere.invalid:{p}/",  # does not resolve
    "",
]

RESOLVED = {"metadata.internal": ["169.254.169.254"], "split.internal": ["127.0.0.1", "10.0.0.7"]}


async def zone_resolver(host: str, port: int) -> list[str]:
    """A DNS zone for names that cannot be made to resolve elsewhere on a test machine; the rest is real."""
    if host in RESOLVED:
        return RESOLVED[host]
    if host.endswith(".invalid"):
        raise OSError("name does not resolve")
    from adapters.teams.service_url import resolve_host

    return await resolve_host(host, port)


@pytest.mark.parametrize("template", REFUSED)
async def test_dev_mode_refuses_with_403_and_sends_nothing(start_bot, connector, template):
    store = MemoryStore()
    bot = await start_bot(store=store)
    bot.endpoint.resolve = zone_resolver
    response = await bot.post(A.personal_message(template.format(p=connector.port), "hello"))
    await bot.endpoint.drain()
    assert response.status == 403 and "Refused" in (await response.json())["error"]
    assert connector.requests == [] and store.turns_by_thread == {}


@pytest.mark.parametrize("template", ["http://localhost:{p}/", "http://2130706433:{p}/", "http://127.1:{p}/",
                                      "HTTP://127.0.0.1:{p}/"])
async def test_dev_mode_answers_urls_that_resolve_to_loopback(start_bot, connector, template):
    bot = await start_bot()
    status = await bot.send(A.personal_message(template.format(p=connector.port), "orders slow n+1"))
    assert status == 200 and connector.messages()


async def test_the_reported_backslash_bypass_reaches_no_outside_connector(start_bot):
    address = _non_loopback_ipv4()
    if address is None:
        pytest.skip("no non-loopback IPv4 interface here")
    from tests.teams.teams_connector import FakeConnector

    async with FakeConnector(host=address) as outside:
        bot = await start_bot()
        response = await bot.post(A.personal_message(f"http://{address}:{outside.port}\\@127.0.0.1:1/", "hi"))
        await bot.endpoint.drain()
        assert response.status == 403 and outside.requests == []


async def test_with_an_app_id_a_malformed_service_url_is_refused_before_token_checks(start_bot, connector):
    bot = await start_bot(AUTHENTICATED)
    url = f"http://user:pw@127.0.0.1:{connector.port}\\@x/"
    response = await bot.post(A.personal_message(url, "hi"), headers={"Authorization": "Bearer " + forged_token()})
    assert response.status == 403 and connector.requests == []


async def test_with_an_app_id_public_service_urls_are_not_resolved():
    async def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError("authenticated mode must not resolve serviceUrls")

    assert await service_url_problem("https://smba.trafficmanager.net/amer/", loopback_only=False,
                                     resolve=no_dns) is None


def test_shape_reasons_are_specific():
    assert "backslash" in shape_problem("http://a\\@b/")
    assert "userinfo" in shape_problem("https://u@b/")
    assert "http" in shape_problem("ftp://b/")
