"""POST /api/messages on the `consultant serve` server: authentication, the SSRF guard, and dispatch.

- With MICROSOFT_APP_ID set, every request must carry a valid Bot Framework token; a missing, malformed or
  invalid one gets 401 and no processing (botbuilder itself answers 500 to a malformed token, so the
  authentication step runs here, before the adapter, and its failures are mapped to 401).
- The token signing keys are fetched in the background (adapters/teams/keys.py): a request never waits on the
  network; before any keys were obtained, token checks answer 503 at once.
- The bot's own access token for its replies is fetched off the loop with a deadline, cached and refreshed ahead
  of expiry (adapters/teams/bot_tokens.py); a reply that gets no token fails the turn instead of hanging.
- Without an app id the endpoint answers 503 with the reason, unless TEAMS_DEV_UNAUTHENTICATED=1 is set for
  local testing; then only serviceUrls resolving to loopback are answered, since an unauthenticated bot would
  otherwise POST wherever any caller told it to (SSRF).
- In every mode a serviceUrl must be plain http(s) with no userinfo and no backslash (adapters/teams/service_url.py);
  anything else gets 403 before any outbound request.
- An authenticated activity is acknowledged at once and processed in the background, so a slow answer never
  runs into the channel's 15-second timeout (which would trigger a redelivery). Invoke activities, whose
  result travels in the HTTP response, are processed inline.
- Durable turns: before the 200, a non-invoke activity is claimed in the inbox (adapters/inbox.py) with its
  payload (text redacted), leased to this process. If the process dies, another one (or the next start) replays the
  activity through the adapter and answers it. Teams gives a bot no way to read back what it already posted, so a
  crash after an answer was sent but before it was recorded answers twice: at least once, never zero times.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import (CloudAdapter, ConfigurationBotFrameworkAuthentication,
                                            ConfigurationServiceClientCredentialFactory)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticateRequestResult
from requests import RequestException  # botframework fetches the token signing keys with requests

from adapters.inbox import Inbox
from adapters.teams.bot_tokens import BotTokenCredentialsFactory
from adapters.teams.config import TeamsConfig
from adapters.teams.handler import CLAIMED, REPLAYED, ConsultantBot, Undelivered, event_key
from adapters.teams.keys import KeysUnavailable, SigningKeys
from adapters.teams.service_url import Resolver, is_loopback_url, resolve_host, service_url_problem  # noqa: F401 - is_loopback_url re-exported
from adapters.server import DRAINS_KEY
from bot import metrics
from bot.bootstrap import App
from bot.redact import redact
from bot.store.port import InboxItem, StoreError

log = logging.getLogger("adapters.teams")

ROUTE = "/api/messages"
DISABLED_REASON = ("Teams is disabled: MICROSOFT_APP_ID is not set. Register the bot in Azure and set "
                   "MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, or set TEAMS_DEV_UNAUTHENTICATED=1 for local "
                   "testing with a local connector.")


class _BotConfiguration:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, config: TeamsConfig) -> None:
        self.APP_ID = config.app_id or None
        self.APP_PASSWORD = config.app_password or None
        self.APP_TYPE = config.app_type
        self.APP_TENANTID = config.app_tenant_id or None


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class TeamsEndpoint:
    def __init__(self, app: App, config: TeamsConfig) -> None:
        self.shutdown_grace = app.settings.shutdown_grace
        self.config = config
        # The bot's own tokens, for its replies, are fetched off the event loop with a deadline (bot_tokens.py).
        self.credentials = BotTokenCredentialsFactory(
            ConfigurationServiceClientCredentialFactory(_BotConfiguration(config)), timeout=config.token_timeout)
        self.auth = ConfigurationBotFrameworkAuthentication(_BotConfiguration(config),
                                                            credentials_factory=self.credentials)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = ConsultantBot(app, config)
        self.store = app.store
        self._tasks: set[asyncio.Task] = set()
        self.resolve: Resolver = resolve_host
        self.keys = SigningKeys() if config.authenticated else None
        if self.keys:
            self.keys.install()
        self.inbox = Inbox(app, "teams", self._spawn)
        # The live authentication result of an activity just received, for its first attempt (a resumed attempt
        # answers proactively with the bot's own credentials instead).
        self._auth: dict[str, tuple[AuthenticateRequestResult, Activity]] = {}

    def _spawn(self, coro, key: str) -> asyncio.Task:  # noqa: ANN001
        task = asyncio.get_running_loop().create_task(coro, name=f"teams:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self, _web_app: web.Application | None = None) -> None:
        if self.keys:
            self.keys.prefetch()
        self.inbox.start(self.run_turn)

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        # The bot apologizes for its own failures; this catches anything that escapes the pipeline.
        if isinstance(error, Undelivered):
            raise error  # its apology already failed: no second attempt, the turn is recorded as failed
        await self.bot.apologize(turn_context, error)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.config.enabled:
            return _problem(503, DISABLED_REASON)
        header = request.headers.get("Authorization", "")
        if self.config.authenticated:
            scheme, _, token = header.partition(" ")
            if scheme != "Bearer" or not token.strip():
                log.warning("teams request without a bearer token rejected", extra={"remote": request.remote})
                return _problem(401, "A Bot Framework bearer token is required.")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "Expected an application/json Activity.")
        try:
            body = await request.json()
            activity = Activity().deserialize(body) if isinstance(body, dict) else None
        except Exception:  # noqa: BLE001 - any unreadable body is the caller's problem
            activity = None
        if activity is None or not activity.type:
            return _problem(400, "The body is not a Bot Framework Activity.")
        if activity.conversation is None or not activity.conversation.id:
            log.warning("teams activity without a conversation rejected",
                        extra={"activity_id": activity.id, "activity_type": activity.type})
            return _problem(400, "The Activity has no `conversation.id`, so there is nowhere to answer.")

        refused = await service_url_problem(activity.service_url, loopback_only=not self.config.authenticated,
                                            resolve=self.resolve)
        if refused:
            log.warning("teams activity with an unacceptable serviceUrl refused (SSRF guard)",
                        extra={"service_url": (activity.service_url or "")[:200], "activity_id": activity.id,
                               "reason": refused})
            hint = "" if self.config.authenticated else " TEAMS_DEV_UNAUTHENTICATED only answers loopback serviceUrls."
            return _problem(403, f"Refused: {refused}.{hint}")
        if self.config.authenticated:
            auth = await self._authenticate(activity, header)
            if isinstance(auth, web.Response):
                return auth
        else:
            auth = await self.auth.authenticate_request(activity, None)

        if activity.type == ActivityTypes.invoke:
            invoke = await self.adapter.process_activity(auth, activity, self.bot.on_turn)
            if invoke:
                return web.json_response(serializer_helper(invoke.body), status=invoke.status)
            return web.Response(status=200)
        if not activity.id:  # nothing to deduplicate or resume by
            self._spawn(self._process(auth, activity), "no-id")
            return web.Response(status=200)
        key = event_key(activity)
        payload = dict(body)  # the activity as received: it deserializes again exactly as it did here
        if isinstance(payload.get("text"), str):
            payload["text"] = redact(payload["text"])
        try:
            first = await self.inbox.claim(key, {"activity": payload})
        except StoreError as exc:
            # Answering 503 makes the channel redeliver later, when the database may be back.
            log.error("could not record the Teams activity", extra={"activity_id": activity.id, "error": str(exc)})
            return _problem(503, "The bot's database is unavailable; retry later.")
        if not first:
            log.info("teams duplicate delivery ignored", extra={"activity_id": activity.id})
            metrics.dedupe_dropped("teams")
            return web.Response(status=200)
        self._auth[key] = (auth, activity)
        self.inbox.spawn(key, {"activity": payload})
        return web.Response(status=200)

    async def run_turn(self, key: str, payload: dict, item: InboxItem | None) -> None:
        """One activity from the inbox: the live one, or one replayed after its process died."""
        auth, activity = self._auth.pop(key, (None, None))
        if activity is None:
            activity = Activity().deserialize(payload["activity"])

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[CLAIMED] = key
            turn_context.turn_state[REPLAYED] = item is not None
            await self.bot.on_turn(turn_context)

        answered = False
        try:
            if auth is not None:
                await self.adapter.process_activity(auth, activity, logic)
            elif self.config.authenticated:
                log.info("replaying a Teams activity whose process died", extra={"key": key})
                await self.adapter.process_proactive(self.adapter.create_claims_identity(self.config.app_id),
                                                     activity, None, logic)
            else:
                await self.adapter.process_activity(await self.auth.authenticate_request(activity, None),
                                                    activity, logic)
            answered = True
        except Undelivered as exc:
            log.warning("teams turn undelivered; recorded as failed", extra={"key": key, "ref": str(exc)})
        except Exception:  # noqa: BLE001 - nothing could be sent; the log has the details
            log.exception("teams activity could not be processed", extra={"ref": secrets.token_hex(4), "key": key})
        try:
            await self.store.finish_turn(key, "answered" if answered else "failed", owner=self.inbox.owner)
        except StoreError as exc:
            log.warning("could not record the end of a Teams turn", extra={"key": key, "error": str(exc)})

    async def _authenticate(self, activity: Activity, header: str) -> AuthenticateRequestResult | web.Response:
        try:
            return await self.auth.authenticate_request(activity, header)
        except PermissionError as exc:
            reason = str(exc)
        except KeysUnavailable:
            log.error("teams token validation unavailable: no signing keys yet")
            return _problem(503, "Token validation is unavailable right now (signing keys not yet obtained); "
                                 "retry later.")
        except (RequestException, OSError) as exc:  # the token signing keys could not be fetched
            log.error("teams token validation unavailable", extra={"error": repr(exc)[:200]})
            return _problem(503, "Token validation is unavailable right now; retry later.")
        except Exception as exc:  # noqa: BLE001 - jwt DecodeError and friends: a malformed token
            reason = f"{type(exc).__name__}: {exc}"
        log.warning("teams request with an invalid token rejected", extra={"reason": reason[:200]})
        return _problem(401, "The Bot Framework token is invalid.")

    async def _process(self, auth: AuthenticateRequestResult, activity: Activity) -> None:
        try:
            await self.adapter.process_activity(auth, activity, self.bot.on_turn)
        except Undelivered as exc:
            log.warning("teams activity undelivered", extra={"activity_id": activity.id, "ref": str(exc)})
        except Exception:  # noqa: BLE001 - nothing could be sent; the log has the details
            log.exception("teams activity could not be processed", extra={"ref": secrets.token_hex(4),
                                                                          "activity_id": activity.id})

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the activities being processed (tests, and shutdown)."""
        while self._tasks:
            done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                return

    async def close(self, _web_app: web.Application | None = None) -> None:
        grace = self.shutdown_grace  # `serve` has already drained with it; other runners get the same grace here
        await self.inbox.drain(grace)
        await self.drain(grace)
        if self.keys:
            await self.keys.close()
        await self.credentials.close()


TEAMS_KEY = web.AppKey("teams_endpoint", TeamsEndpoint)


def mount(web_app: web.Application, app: App, *, config: TeamsConfig | None = None) -> None:
    config = config or TeamsConfig.from_env()
    if not config.enabled:
        log.info("Teams disabled: MICROSOFT_APP_ID is not set (TEAMS_DEV_UNAUTHENTICATED=1 enables local testing); "
                 f"POST {ROUTE} answers 503")

        async def disabled(_request: web.Request) -> web.Response:
            return _problem(503, DISABLED_REASON)

        web_app.router.add_post(ROUTE, disabled)
        return
    endpoint = TeamsEndpoint(app, config)
    web_app[TEAMS_KEY] = endpoint
    web_app.router.add_post(ROUTE, endpoint.handle)
    web_app.on_startup.append(endpoint.start)
    web_app.on_shutdown.append(endpoint.close)
    if DRAINS_KEY in web_app:
        web_app[DRAINS_KEY].append(endpoint.inbox.drain)
    if config.authenticated:
        log.info("Teams enabled", extra={"route": ROUTE, "app_type": config.app_type,
                                         "allowed_tenants": sorted(config.allowed_tenants) or "any"})
    else:
        log.warning("Teams in unauthenticated dev mode (TEAMS_DEV_UNAUTHENTICATED=1): no token checks, replies "
                    "only to serviceUrls resolving to loopback; never use this in production", extra={"route": ROUTE})
