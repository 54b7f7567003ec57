"""Configuration, resolved once and passed down.

Precedence, lowest first: defaults < ``config.toml`` in the sleeptime home dir
< ``SLEEPTIME_*`` environment variables < explicit arguments (CLI flags). This
is the only module that reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .budget import DEFAULT_ASK_BUDGET, DEFAULT_SLEEP_BUDGET, Budget
from .errors import ConfigurationError

ENV_PREFIX = "SLEEPTIME_"


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
    openai_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible endpoint.")
    openai_api_key: SecretStr | None = Field(None, description="API key for that endpoint.")
    openai_context_window: int = Field(8192, ge=256, description="Context window of the endpoint's model.")
    request_timeout_s: float = Field(120.0, gt=0, description="Time-out of one remote model call.")
    max_retries: int = Field(4, ge=1, le=20, description="Attempts per remote call before giving up.")
    sleep_budget: Budget = Field(DEFAULT_SLEEP_BUDGET, description="Default budget of Engine.sleep.")
    ask_budget: Budget = Field(DEFAULT_ASK_BUDGET, description="Default budget of Engine.ask.")

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

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.home / 'sleeptime.db'}"

    @property
    def model_cache_dir(self) -> Path:
        return self.models_dir or self.home / "models"


def config_path() -> Path:
    return default_home() / "config.toml"


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source; ``overrides`` (set ones only) win. Errors name the field."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid settings: {problems}") from None
    except ValueError as exc:  # e.g. a config.toml that is not valid TOML
        raise ConfigurationError(f"invalid config file {config_path()}: {exc}") from None
