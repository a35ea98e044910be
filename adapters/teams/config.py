"""Teams settings, read from the environment (documented in docs/teams.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bot.errors import ConfigError

APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant"}


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class TeamsConfig:
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    allowed_tenants: frozenset[str] = frozenset()
    dev_unauthenticated: bool = False
    # Connector send retries: attempts in all, and the first backoff in seconds (doubling, capped at 8 s).
    send_attempts: int = 4
    send_backoff: float = 0.5
    # Seconds between typing indicators while an answer is being prepared.
    typing_interval: float = 3.0
    # Seconds a reply waits at most for the bot's own access token from Azure AD (adapters/teams/bot_tokens.py).
    token_timeout: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TeamsConfig:
        env = dict(os.environ if env is None else env)
        raw_type = (env.get("MICROSOFT_APP_TYPE") or "MultiTenant").strip()
        app_type = APP_TYPES.get(raw_type.lower())
        if app_type is None:
            raise ConfigError(f"MICROSOFT_APP_TYPE must be MultiTenant or SingleTenant, got {raw_type!r}")
        config = cls(
            app_id=(env.get("MICROSOFT_APP_ID") or "").strip(),
            app_password=env.get("MICROSOFT_APP_PASSWORD") or "",
            app_type=app_type,
            app_tenant_id=(env.get("MICROSOFT_APP_TENANT_ID") or "").strip(),
            allowed_tenants=frozenset(t.strip().lower() for t in (env.get("TEAMS_ALLOWED_TENANTS") or "").split(",")
                                      if t.strip()),
            dev_unauthenticated=_flag(env.get("TEAMS_DEV_UNAUTHENTICATED")),
        )
        if config.app_id and not config.app_password:
            raise ConfigError("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not: the bot needs the secret to reply")
        if config.app_id and config.app_type == "SingleTenant" and not config.app_tenant_id:
            raise ConfigError("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID")
        return config

    @property
    def authenticated(self) -> bool:
        """Whether inbound requests are checked against Bot Framework tokens."""
        return bool(self.app_id)

    @property
    def enabled(self) -> bool:
        return self.authenticated or self.dev_unauthenticated

    def tenant_allowed(self, tenant: str | None) -> bool:
        if not self.allowed_tenants:
            return True
        return bool(tenant) and tenant.lower() in self.allowed_tenants
