"""Configuration, resolved once and passed down.

Precedence, lowest first: defaults < ``config.toml`` in the sleeptime home dir
< ``SLEEPTIME_*`` environment variables < explicit arguments (CLI flags). This
is the only module that reads the environment.
"""

from __future__ import annotations

import contextvars
import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .budget import DEFAULT_ASK_BUDGET, DEFAULT_STRATEGY, Budget
from .costs import DEFAULT_T
from .errors import ConfigurationError

ENV_PREFIX = "SLEEPTIME_"
# Variables read outside the settings object: the benchmark data paths (bench/datasets/paths.py).
OTHER_ENV_VARS = ("SLEEPTIME_DATA_DIR", "SLEEPTIME_CACHE_DIR")
# Reserved for the test suite (tests/conftest.py).
TEST_ENV_PREFIX = "SLEEPTIME_TEST_"


def default_home() -> Path:
    env = os.environ.get(f"{ENV_PREFIX}HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("sleeptime"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", env_nested_delimiter="__")

    home: Path = Field(
        default_factory=default_home, description="Where the database, models and config live."
    )
    db_url: str | None = Field(
        None, description="SQLAlchemy URL of the store; default: SQLite in the home dir."
    )
    model: str = Field(
        "default",
        description="Model: a catalog name (default, smollm2-135m), a .gguf path, hf:REPO/FILE "
        "or openai:MODEL.",
    )
    sleep_model: str | None = Field(None, description="A separate (cheaper or local) model for sleep work.")
    models_dir: Path | None = Field(
        None, description="Where catalog models are assembled; default HOME/models."
    )
    n_ctx: int | None = Field(None, ge=256, description="llama.cpp context window (default: the catalog's).")
    n_threads: int | None = Field(None, ge=1, description="llama.cpp CPU threads (default: all cores).")
    prompt_cache_mb: int = Field(
        2048,
        ge=0,
        description="Disk space for saved llama.cpp prompt states (HOME/prompt-cache, least recently "
        "used go first); 0: keep none on disk.",
    )
    prompt_warmup: bool = Field(
        True, description="At the end of a sleep, compute the answer prompt's prefix ahead for queries."
    )
    openai_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible endpoint.")
    openai_api_key: SecretStr | None = Field(None, description="API key for that endpoint.")
    openai_context_window: int = Field(8192, ge=256, description="Context window of the endpoint's model.")
    openai_max_concurrency: int = Field(
        8, ge=1, le=256, description="Calls sent to the endpoint at once (k > 1 sleep loops run in parallel)."
    )
    request_timeout_s: float = Field(120.0, gt=0, description="Time-out of one remote model call.")
    max_retries: int = Field(4, ge=1, le=20, description="Attempts per remote call before giving up.")
    sleep_budget: Budget = Field(
        Budget(),
        description="Default budget of Engine.sleep; unset fields take the strategy's built-in defaults "
        "(budget.py).",
    )
    sleep_strategy: str = Field(
        DEFAULT_STRATEGY, description="Default strategy of Engine.sleep: solve, rethink, rethink-structured."
    )
    ask_budget: Budget = Field(DEFAULT_ASK_BUDGET, description="Default budget of Engine.ask.")
    # --- sleeptime serve (docs/server.md)
    server_host: str = Field("127.0.0.1", description="Address `sleeptime serve` binds to.")
    server_port: int = Field(8765, ge=1, le=65535, description="Port `sleeptime serve` listens on.")
    idle_delay_s: float = Field(
        30.0, ge=0, le=7 * 86400, description="Idle time (no edits, no queries) before a context is slept on."
    )
    sleep_workers: int = Field(
        1, ge=0, le=32, description="Sleep worker threads per server process (0: this process runs no jobs)."
    )
    job_lease_s: float = Field(
        60.0, gt=0, le=86400, description="A running job's lease; a worker that stops renewing it loses it."
    )
    job_heartbeat_s: float | None = Field(
        None,
        gt=0,
        le=3600,
        description="How often a running job renews its lease and checks its context; below job_lease_s. "
        "None: a third of job_lease_s, at most 5 s.",
    )
    job_max_attempts: int = Field(
        3, ge=1, le=20, description="Attempts per sleep job before it is marked failed (hard stop)."
    )
    job_retry_delay_s: float = Field(
        10.0, ge=0, le=86400, description="Wait before the first retry of a failed job; doubles each time."
    )
    scheduler_poll_s: float = Field(
        1.0, gt=0, le=60, description="How often an idle worker looks for due jobs."
    )
    context_sleep_tokens_per_day: int | None = Field(
        None, ge=1, description="Most sleep-time tokens per context in any 24 hours; None: no limit."
    )
    sleep_tokens_per_hour: int | None = Field(
        None, ge=1, description="Most sleep-time tokens of the whole server in any hour; None: no limit."
    )
    sleep_tokens_per_day: int | None = Field(
        None, ge=1, description="Most sleep-time tokens of the whole server in any 24 hours; None: no limit."
    )
    max_request_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest HTTP request body the server accepts."
    )
    max_context_chars: int = Field(
        400_000, ge=1, le=2_000_000, description="Longest context text the server accepts."
    )
    max_answer_tokens: int = Field(
        4096, ge=1, le=131072, description="Largest max_tokens a request may ask for at test time."
    )
    idempotency_ttl_s: float = Field(
        86400.0, gt=0, le=30 * 86400, description="How long the server keeps an Idempotency-Key's answer."
    )
    idempotency_lease_s: float = Field(
        600.0,
        gt=0,
        le=86400,
        description="After how long a request claimed under an Idempotency-Key that never answered "
        "(its process died) may run again.",
    )
    query_priority_wait_s: float = Field(
        30.0,
        ge=0,
        le=600,
        description="When one model both sleeps and answers, how long a sleep call may wait for queries.",
    )
    test_time_weight: float = Field(
        DEFAULT_T, gt=0, description="Cost of a test-time token in sleep-time tokens, for the break-even."
    )

    @field_validator("sleep_budget", "ask_budget", mode="before")
    @classmethod
    def _budget_from_text(cls, value: Any) -> Any:
        """Environment variables are text (SLEEPTIME_SLEEP_BUDGET__ROUNDS=2); a budget is strict
        about types, so numbers and booleans written as text are read as such here."""
        if isinstance(value, dict):
            return {key: _scalar(item) for key, item in value.items()}
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_path())
        return (init_settings, env_settings, toml)

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.job_heartbeat_s is not None and self.job_heartbeat_s >= self.job_lease_s:
            raise ValueError("job_heartbeat_s must be below job_lease_s, or the lease runs out between beats")
        return self

    @property
    def job_heartbeat_interval_s(self) -> float:
        """How often a running job's lease is renewed."""
        return self.job_heartbeat_s if self.job_heartbeat_s is not None else min(self.job_lease_s / 3, 5.0)

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.home / 'sleeptime.db'}"

    @property
    def model_cache_dir(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def prompt_cache_dir(self) -> Path:
        return self.home / "prompt-cache"


# The home a `load_settings(home=...)` call is resolving, so its config file is read from there.
_resolving_home: contextvars.ContextVar[Path | None] = contextvars.ContextVar("resolving_home", default=None)


def _scalar(value: Any) -> Any:
    """'2' -> 2, '0.7' -> 0.7, 'true' -> True; other text (an effort: 'low') stays text."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, (int, float, bool)) or parsed is None else value


def config_path(home: Path | None = None) -> Path:
    """``config.toml`` in ``home``: the given one, the one being resolved (``--home``), or the default."""
    return (home or _resolving_home.get() or default_home()) / "config.toml"


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source; ``overrides`` (set ones only) win. Errors name the field."""
    given = {k: v for k, v in overrides.items() if v is not None}
    token = _resolving_home.set(Path(given["home"]).expanduser() if "home" in given else None)
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid settings: {problems}") from None
    except ValueError as exc:  # e.g. a config.toml that is not valid TOML
        raise ConfigurationError(
            f"invalid config file {config_path()}: {exc}", hint="fix the file (TOML) or remove it"
        ) from None
    finally:
        _resolving_home.reset(token)


Source = Literal["default", "file", "env", "flag"]


@dataclass(frozen=True)
class SettingValue:
    """One setting as ``sleeptime config show`` reports it."""

    name: str
    value: Any
    source: Source
    env: str
    description: str


def explain_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> list[SettingValue]:
    """Every setting with its resolved value and the source that set it (highest precedence wins)."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    settings = load_settings(**given)
    env_names = {name.upper() for name in (os.environ if environ is None else environ)}
    try:
        in_file = TomlConfigSettingsSource(Settings, toml_file=config_path(settings.home))()
    except ValueError:  # load_settings above already refused a broken file
        in_file = {}
    out = []
    for name, info in Settings.model_fields.items():
        env = f"{ENV_PREFIX}{name.upper()}"
        source: Source = "default"
        if name in given:
            source = "flag"
        elif env in env_names or any(e.startswith(env + "__") for e in env_names):
            source = "env"
        elif name in in_file:
            source = "file"
        out.append(SettingValue(name, getattr(settings, name), source, env, info.description or ""))
    return out


def unknown_env_vars(environ: Mapping[str, str] | None = None) -> list[tuple[str, str | None]]:
    """``SLEEPTIME_*`` variables that no setting reads, each with the closest known name (or None)."""
    known = [f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields]
    known += list(OTHER_ENV_VARS)
    out = []
    for raw in sorted(os.environ if environ is None else environ):
        name = raw.upper()
        if not name.startswith(ENV_PREFIX) or name.startswith(TEST_ENV_PREFIX):
            continue
        base, _, sub = name.partition("__")
        if base in known and (not sub or _is_budget_field(base, sub)):
            continue
        close = difflib.get_close_matches(base, known, n=1, cutoff=0.75)
        out.append((raw, close[0] if close else None))
    return out


def _is_budget_field(env_name: str, sub: str) -> bool:
    """Whether ``ENV_NAME__SUB`` sets a field of a budget setting (``SLEEPTIME_SLEEP_BUDGET__ROUNDS``)."""
    field = Settings.model_fields.get(env_name.removeprefix(ENV_PREFIX).lower())
    return field is not None and field.annotation is Budget and sub.lower() in Budget.model_fields
