"""Bot Framework token signing keys, fetched off the request path so authentication never blocks the loop.

botframework's own key cache (`_OpenIdMetadata`) calls `requests.get` with no timeout inside a coroutine: one
forged token with a Bot Framework issuer, while the key endpoint hangs, froze the whole server. This cache
takes its place in the SDK's per-URL metadata cache (`JwtTokenExtractor.metadataCache`, which the SDK consults
before creating its own) and:

- fetches the OpenID metadata and the JWKS with aiohttp (honouring HTTPS_PROXY like requests does), with a
  timeout, in a background task, one fetch at a time per URL;
- answers from the keys it has while a refresh runs, so a request never waits for the network;
- raises KeysUnavailable when no keys were ever obtained (the endpoint answers 503 at once).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from botframework.connector.auth import AuthenticationConstants, GovernmentConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger("adapters.teams.keys")

FETCH_TIMEOUT = 10.0
REFRESH_AFTER = 24 * 3600.0  # the SDK's own policy: keys older than a day are refreshed
UNKNOWN_KID_REFRESH_AFTER = 3600.0  # an unknown key id triggers a refresh at most once an hour
RETRY_AFTER_FAILURE = 10.0

METADATA_URLS = (
    AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    GovernmentConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    GovernmentConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
)


class KeysUnavailable(Exception):
    """No signing keys have been obtained yet, so no token can be validated."""


@dataclass(frozen=True)
class SigningKey:
    """The attributes botframework's JwtTokenExtractor reads from a metadata lookup."""

    public_key: Any
    endorsements: list[str]


class SigningKeyCache:
    """Drop-in for botframework's `_OpenIdMetadata`: `await get(kid)` never touches the network."""

    def __init__(self, url: str, *, timeout: float = FETCH_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        self.keys: list[dict[str, Any]] | None = None
        self.fetched_at = 0.0  # monotonic time of the last successful fetch
        self.failed_at = float("-inf")  # monotonic time of the last failed fetch
        self.fetches = 0
        self._task: asyncio.Task | None = None

    async def get(self, key_id: str | None) -> SigningKey | None:
        now = time.monotonic()
        if self.keys is None:
            self.refresh_soon()
            raise KeysUnavailable(f"no signing keys from {self.url} yet")
        if now - self.fetched_at > REFRESH_AFTER:
            self.refresh_soon()
        key = self._find(key_id)
        if key is None and now - self.fetched_at > UNKNOWN_KID_REFRESH_AFTER:
            self.refresh_soon()  # a key rollover: the next request sees the new keys
        return key

    def refresh_soon(self) -> None:
        """Start a background fetch unless one is running or the last one failed only moments ago."""
        if self._task is not None and not self._task.done():
            return
        if time.monotonic() - self.failed_at < RETRY_AFTER_FAILURE:
            return
        self._task = asyncio.get_running_loop().create_task(self.refresh())

    async def refresh(self) -> bool:
        self.fetches += 1
        began = time.perf_counter()
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout, trust_env=True) as session:
                async with session.get(self.url) as response:
                    response.raise_for_status()
                    jwks_uri = (await response.json(content_type=None))["jwks_uri"]
                async with session.get(jwks_uri) as response:
                    response.raise_for_status()
                    keys = (await response.json(content_type=None))["keys"]
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, KeyError, TypeError, ValueError) as exc:
            log.warning("bot framework signing keys could not be fetched",
                        extra={"url": self.url, "error": type(exc).__name__,
                               "ms": round((time.perf_counter() - began) * 1000)})
            self.failed_at = time.monotonic()
            return False
        self.keys = [k for k in keys if isinstance(k, dict)]
        self.fetched_at = time.monotonic()
        log.info("bot framework signing keys fetched", extra={"url": self.url, "keys": len(self.keys),
                                                              "ms": round((time.perf_counter() - began) * 1000)})
        return True

    def _find(self, key_id: str | None) -> SigningKey | None:
        for key in self.keys or []:
            if key.get("kid") == key_id:
                try:
                    public_key = RSAAlgorithm.from_jwk(json.dumps(key))
                except (ValueError, TypeError, KeyError):
                    return None
                return SigningKey(public_key, list(key.get("endorsements", [])))
        return None

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class SigningKeys:
    """One cache per Bot Framework metadata URL, installed where botframework looks its metadata up."""

    def __init__(self, urls: tuple[str, ...] = METADATA_URLS, *, timeout: float = FETCH_TIMEOUT) -> None:
        self.caches = {url: SigningKeyCache(url, timeout=timeout) for url in urls}

    def install(self) -> None:
        JwtTokenExtractor.metadataCache.update(self.caches)

    def prefetch(self) -> None:
        """Fetch the public-cloud channel keys at startup, so the first real message does not get a 503."""
        self.caches[METADATA_URLS[0]].refresh_soon()

    async def close(self) -> None:
        await asyncio.gather(*(cache.close() for cache in self.caches.values()))
        for url, cache in self.caches.items():
            if JwtTokenExtractor.metadataCache.get(url) is cache:
                del JwtTokenExtractor.metadataCache[url]
