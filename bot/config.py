"""Settings, all read from the environment (documented in the README's configuration table)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError

PACKAGED_KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "backend-consultant"


def _number(env: dict[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _flag(env: dict[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (on or off), got {raw!r}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    knowledge_dir: Path
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout: float = 30.0
    llm_deadline: float = 60.0
    max_input_chars: int = 40_000
    max_review_bytes: int = 512 * 1024
    history_token_budget: int = 6_000
    prompt_token_budget: int = 12_000
    log_level: str = "INFO"
    log_format: str = "text"
    user_turns_per_hour: int = 0  # 0: no limit
    tenant_turns_per_hour: int = 0
    tenant_tokens_per_day: int = 0
    retention_days: float = 90.0  # 0: keep everything
    metrics_enabled: bool = True
    # On SIGTERM, turns in flight get this long to finish; the rest are released to another process.
    shutdown_grace: float = 75.0
    # A process owns a turn it works on for this long, renewing it while alive; a crashed owner's turns are
    # resumed elsewhere once it runs out. Every process looks for such turns each resume_interval seconds.
    turn_lease: float = 30.0
    resume_interval: float = 10.0
    # A client gets this long to send its request headers, and then its body, before the connection is cut.
    header_timeout: float = 10.0
    body_timeout: float = 30.0

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key)

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("CONSULTANT_DATA_DIR") or default_data_dir()).expanduser()
        database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'consultant.sqlite3'}"
        # Heroku-style URLs name the driver-less scheme; SQLAlchemy async needs the driver.
        for prefix in ("postgres://", "postgresql://"):
            if database_url.startswith(prefix):
                database_url = "postgresql+asyncpg://" + database_url[len(prefix):]
        llm_deadline = _number(env, "CONSULTANT_LLM_DEADLINE", 60.0, minimum=0.1)
        turn_lease = _number(env, "CONSULTANT_TURN_LEASE", 30.0, minimum=0.5)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR") or PACKAGED_KNOWLEDGE_DIR).expanduser(),
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            openai_model=env.get("OPENAI_MODEL") or "gpt-4o-mini",
            openai_timeout=_number(env, "OPENAI_TIMEOUT", 30.0, minimum=0.1),
            llm_deadline=llm_deadline,
            max_input_chars=int(_number(env, "CONSULTANT_MAX_INPUT_CHARS", 40_000, minimum=100)),
            max_review_bytes=int(_number(env, "CONSULTANT_MAX_REVIEW_BYTES", 512 * 1024, minimum=1024)),
            history_token_budget=int(_number(env, "CONSULTANT_HISTORY_TOKENS", 6_000, minimum=200)),
            prompt_token_budget=int(_number(env, "CONSULTANT_PROMPT_TOKENS", 12_000, minimum=2_000)),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            log_format=(env.get("LOG_FORMAT") or "text").lower(),
            user_turns_per_hour=int(_number(env, "CONSULTANT_USER_TURNS_PER_HOUR", 0)),
            tenant_turns_per_hour=int(_number(env, "CONSULTANT_TENANT_TURNS_PER_HOUR", 0)),
            tenant_tokens_per_day=int(_number(env, "CONSULTANT_TENANT_TOKENS_PER_DAY", 0)),
            retention_days=_number(env, "CONSULTANT_RETENTION_DAYS", 90.0),
            metrics_enabled=_flag(env, "CONSULTANT_METRICS", default=True),
            # Long enough for the LLM deadline plus posting the answer.
            shutdown_grace=_number(env, "CONSULTANT_SHUTDOWN_GRACE", llm_deadline + 15),
            turn_lease=turn_lease,
            resume_interval=_number(env, "CONSULTANT_RESUME_INTERVAL", min(10.0, turn_lease), minimum=0.1),
            header_timeout=_number(env, "CONSULTANT_HEADER_TIMEOUT", 10.0, minimum=0.1),
            body_timeout=_number(env, "CONSULTANT_BODY_TIMEOUT", 30.0, minimum=0.1),
        )
