"""The bot's own Bot Framework access tokens (for its replies), obtained off the event loop and with a deadline.

botframework's MicrosoftAppCredentials asks MSAL for a token inside `signed_session`, which msrest calls on the
event loop before every connector request, and MSAL's HTTP call to login.microsoftonline.com has no timeout: a
hanging identity endpoint froze the whole server at the first reply and at every hourly token refresh. Here:

- BotTokenCredentialsFactory wraps the SDK's credentials factory (it still decides the app id, the authority and
  the scope, for every cloud) and hands the connector client BotTokenCredentials instead;
- BotTokenCredentials is an msrest async pipeline policy (msrest inserts a credentials object that is a policy
  as it is, instead of calling `signed_session`), so each connector request awaits its token;
- TokenSource obtains the token with MSAL in a worker thread, with MSAL's HTTP timeout and an asyncio deadline,
  one fetch at a time; caches it until shortly before it expires; refreshes it in the background ahead of expiry;
  and, for a few seconds after a failure, fails at once instead of making every send wait out another deadline;
- a send that gets no token raises BotTokenUnavailable within the deadline: the turn fails (the apology path
  runs and is logged) instead of hanging.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botframework.connector.auth import MicrosoftAppCredentials, ServiceClientCredentialsFactory
from msal import ConfidentialClientApplication
from msrest.pipeline import AsyncHTTPPolicy

log = logging.getLogger("adapters.teams.tokens")

FETCH_TIMEOUT = 10.0
REFRESH_BEFORE = 600.0  # start a background refresh this long before the token expires
EXPIRY_MARGIN = 60.0  # never hand out a token this close to its expiry (transit time, clock skew)
RETRY_AFTER_FAILURE = 5.0
DEFAULT_LIFETIME = 3600.0  # when the identity endpoint does not say (it always does)


class BotTokenUnavailable(Exception):
    """No Bot Framework access token could be obtained in time, so nothing can be sent to the connector."""


class MsalClient:
    """The blocking MSAL calls, made only from TokenSource's worker thread."""

    def __init__(self, app_id: str, password: str, authority: str, scope: str, *, timeout: float) -> None:
        self.app_id = app_id
        self.authority = authority
        self.scope = scope
        self._password = password
        self._timeout = timeout
        self._app: ConfidentialClientApplication | None = None

    def acquire(self) -> dict[str, Any]:
        if self._app is None:  # building it fetches the tenant's metadata, so it happens here, in the thread
            self._app = ConfidentialClientApplication(client_id=self.app_id, client_credential=self._password,
                                                      authority=self.authority, timeout=self._timeout)
        # TokenSource is the cache; MSAL's own would answer an early refresh with the token about to expire.
        self._app.remove_tokens_for_client()
        return self._app.acquire_token_for_client(scopes=[self.scope])


class TokenSource:
    """One app id, authority and scope: `await get()` answers from the cache or waits at most `timeout`."""

    def __init__(self, client: MsalClient, *, timeout: float = FETCH_TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout
        self.token: str | None = None
        self.usable_until = 0.0  # monotonic
        self.refresh_at = float("inf")
        self.failed_at = float("-inf")
        self.last_error = ""
        self.fetches = 0
        self._fetch: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None
        # One thread: a hung fetch holds only it, and MSAL's own timeout frees it.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-token")

    def cached(self) -> str | None:
        if self.token is not None and time.monotonic() < self.usable_until:
            return self.token
        return None

    async def get(self) -> str:
        token = self.cached()
        if token is not None:
            if time.monotonic() >= self.refresh_at:
                self.refresh_soon()
            return token
        if time.monotonic() - self.failed_at < RETRY_AFTER_FAILURE:
            raise BotTokenUnavailable(f"the last token request failed moments ago ({self.last_error})")
        await asyncio.shield(self._start())
        token = self.cached()
        if token is None:
            raise BotTokenUnavailable(self.last_error or "no token")
        return token

    def refresh_soon(self) -> None:
        """Start a background fetch unless one is running or the last one failed moments ago."""
        if time.monotonic() - self.failed_at >= RETRY_AFTER_FAILURE:
            self._start()

    def _start(self) -> asyncio.Task:
        """The fetch in flight, or a new one."""
        if self._fetch is None or self._fetch.done():
            self._fetch = asyncio.get_running_loop().create_task(self._refresh(), name="bot-token-fetch")
        return self._fetch

    async def _refresh(self) -> bool:
        self.fetches += 1
        began = time.perf_counter()
        where = {"authority": self.client.authority, "scope": self.client.scope}
        loop = asyncio.get_running_loop()
        try:
            result = await asyncio.wait_for(loop.run_in_executor(self._executor, self.client.acquire), self.timeout)
            error = None if "access_token" in result else str(result.get("error") or "no access_token")
            detail = str(result.get("error_description") or "")[:200]
        except asyncio.TimeoutError:
            error, detail = "timeout", f"no answer within {self.timeout:g}s"
        except Exception as exc:  # noqa: BLE001 - requests and MSAL errors: the endpoint is unreachable or odd
            error, detail = type(exc).__name__, str(exc)[:200]
        ms = round((time.perf_counter() - began) * 1000)
        if error is not None:
            self.failed_at = time.monotonic()
            self.last_error = f"{error}: {detail}" if detail else error
            log.warning("bot framework access token could not be obtained",
                        extra={**where, "error": error, "detail": detail, "ms": ms,
                               "still_cached": self.cached() is not None})
            if self.cached() is not None:  # a background refresh: try again while the old token lasts
                self._schedule(RETRY_AFTER_FAILURE)
            return False
        lifetime = float(result.get("expires_in") or DEFAULT_LIFETIME)
        now = time.monotonic()
        self.token = result["access_token"]
        self.usable_until = now + lifetime - min(EXPIRY_MARGIN, lifetime / 4)
        refresh_in = max(lifetime - REFRESH_BEFORE, lifetime / 2)
        self.refresh_at = now + refresh_in
        self._schedule(refresh_in)
        log.info("bot framework access token obtained", extra={**where, "expires_in": round(lifetime), "ms": ms})
        return True

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, self.refresh_soon)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._fetch is not None and not self._fetch.done():
            self._fetch.cancel()
            await asyncio.gather(self._fetch, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)


class BotTokenCredentials(MicrosoftAppCredentials, AsyncHTTPPolicy):
    """The connector client's credentials: sets each request's bearer token from a TokenSource."""

    def __init__(self, template: MicrosoftAppCredentials, source: TokenSource) -> None:
        # No password here: only the TokenSource's MSAL client holds it.
        MicrosoftAppCredentials.__init__(self, template.microsoft_app_id, "", template.tenant, template.oauth_scope)
        AsyncHTTPPolicy.__init__(self)
        self.oauth_endpoint = template.oauth_endpoint
        self.source = source

    async def send(self, request, **kwargs):  # noqa: ANN001, ANN003, ANN201 - msrest's policy signature
        if self._should_set_token(None):
            request.http_request.headers["Authorization"] = f"Bearer {await self.source.get()}"
        return await self.next.send(request, **kwargs)

    def get_access_token(self, force_refresh: bool = False) -> str:
        """For SDK paths that ask synchronously: the cached token, never a network call on the loop."""
        token = self.source.cached()
        if token is None:
            try:
                self.source.refresh_soon()
            except RuntimeError:  # no running loop: nothing to start the fetch on
                pass
            raise BotTokenUnavailable("no cached Bot Framework token yet; one is being fetched")
        return token


class BotTokenCredentialsFactory(ServiceClientCredentialsFactory):
    """The SDK's factory decides app id, authority and scope; the tokens come from one TokenSource for each."""

    def __init__(self, inner: ServiceClientCredentialsFactory, *, timeout: float = FETCH_TIMEOUT) -> None:
        self.inner = inner
        self.timeout = timeout
        self.sources: dict[tuple[str, str, str], TokenSource] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self.inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self.inner.is_authentication_disabled()

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> MicrosoftAppCredentials:
        sdk = await self.inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
        if not isinstance(sdk, MicrosoftAppCredentials) or not sdk.microsoft_app_id:
            return sdk  # the anonymous credentials of dev mode send no token at all
        scope = sdk.oauth_scope if sdk.oauth_scope.endswith("/.default") else sdk.oauth_scope + "/.default"
        key = (sdk.microsoft_app_id, sdk.oauth_endpoint, scope)
        source = self.sources.get(key)
        if source is None:
            client = MsalClient(sdk.microsoft_app_id, sdk.microsoft_app_password, sdk.oauth_endpoint, scope,
                                timeout=self.timeout)
            source = self.sources[key] = TokenSource(client, timeout=self.timeout)
        return BotTokenCredentials(sdk, source)

    async def close(self) -> None:
        await asyncio.gather(*(source.close() for source in self.sources.values()))
