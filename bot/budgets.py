"""Per-user and per-tenant limits on turns and LLM tokens, counted in the database so replicas share them.

- CONSULTANT_USER_TURNS_PER_HOUR and CONSULTANT_TENANT_TURNS_PER_HOUR: turns in the current clock hour.
- CONSULTANT_TENANT_TOKENS_PER_DAY: LLM tokens in the current UTC day, as the API reported them.

A turn is counted when it is admitted (refused attempts count too, so hammering does not reset anything); the
increment and the check are one atomic statement, so two replicas can never both take the last turn.
A tenant is `platform:tenant`, a user `platform:tenant:user`. Unset or 0 means no limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.messages import Inbound
from bot.store.port import Store, StoreError

log = logging.getLogger("bot.budgets")

USER_HOUR = "user-hour"
TENANT_HOUR = "tenant-hour"
TENANT_DAY = "tenant-day"


@dataclass(frozen=True)
class BudgetLimits:
    user_turns_per_hour: int = 0
    tenant_turns_per_hour: int = 0
    tenant_tokens_per_day: int = 0

    @property
    def any(self) -> bool:
        return bool(self.user_turns_per_hour or self.tenant_turns_per_hour or self.tenant_tokens_per_day)


@dataclass(frozen=True)
class Refusal:
    budget: str  # "user_turns", "tenant_turns" or "tenant_tokens" (the metric label)
    message: str


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _tenant(inbound: Inbound) -> str:
    return f"{inbound.platform}:{inbound.tenant}"


def _user(inbound: Inbound) -> str:
    return f"{inbound.platform}:{inbound.tenant}:{inbound.user}"


class TokenTally:
    """Collects the token counts an LLM call reports through `on_usage`, to be recorded after the call."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, tokens: int) -> None:
        self.total += max(0, int(tokens))


class Budgets:
    def __init__(self, store: Store, limits: BudgetLimits, clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.limits = limits
        self.clock = clock

    def _hour(self) -> datetime:
        return self.clock().astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)

    def _day(self) -> datetime:
        return self.clock().astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)

    async def admit(self, inbound: Inbound) -> Refusal | None:
        """Count this turn; a Refusal when it is over a limit (then the engine answers offline, without the LLM)."""
        limits = self.limits
        if not limits.any:
            return None
        if limits.tenant_tokens_per_day:
            used = await self.store.usage(TENANT_DAY, _tenant(inbound), self._day())
            if used.tokens >= limits.tenant_tokens_per_day:
                return self._refuse(inbound, "tenant_tokens",
                                    "This workspace has used its daily allowance of AI answers "
                                    f"({limits.tenant_tokens_per_day:,} tokens); it resets at midnight UTC.")
        # The user's own limit first: one person over their limit must not use up everyone else's allowance.
        if limits.user_turns_per_hour:
            used = await self.store.add_usage(USER_HOUR, _user(inbound), self._hour(), turns=1)
            if used.turns > limits.user_turns_per_hour:
                return self._refuse(inbound, "user_turns",
                                    f"You have asked {limits.user_turns_per_hour:,} questions this hour, your "
                                    "limit; it resets at the top of the hour.")
        if limits.tenant_turns_per_hour:
            used = await self.store.add_usage(TENANT_HOUR, _tenant(inbound), self._hour(), turns=1)
            if used.turns > limits.tenant_turns_per_hour:
                return self._refuse(inbound, "tenant_turns",
                                    f"This workspace has asked {limits.tenant_turns_per_hour:,} questions this "
                                    "hour, its limit; it resets at the top of the hour.")
        return None

    async def record_tokens(self, inbound: Inbound, tokens: int) -> None:
        """Add the tokens an answer used; a database failure here loses the count, never the answer."""
        if tokens <= 0 or not self.limits.tenant_tokens_per_day:
            return
        try:
            await self.store.add_usage(TENANT_DAY, _tenant(inbound), self._day(), tokens=tokens)
        except StoreError as exc:
            log.warning("token usage not recorded", extra={"platform": inbound.platform, "tenant": inbound.tenant,
                                                           "tokens": tokens, "error": str(exc)[:200]})

    def _refuse(self, inbound: Inbound, budget: str, reason: str) -> Refusal:
        log.info("budget exhausted", extra={"platform": inbound.platform, "tenant": inbound.tenant, "budget": budget})
        return Refusal(budget, f"Sorry, I can't write a full answer right now. {reason} In the meantime, "
                               "here is what the knowledge base says.")
