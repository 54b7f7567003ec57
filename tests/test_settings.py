"""Settings precedence: defaults < config.toml in the home dir < SLEEPTIME_* environment < explicit
arguments (CLI flags), field by field, nested budgets included."""

from __future__ import annotations

from pathlib import Path

import pytest

from sleeptime import Budget, Engine
from sleeptime.llm.fake import ScriptedModel
from sleeptime.settings import load_settings


def _config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")


def test_each_layer_overrides_the_one_below(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().max_retries == 4  # the default
    _config(isolated_home, "max_retries = 7\nidle_delay_s = 5.0\n")
    assert load_settings().max_retries == 7  # file over default
    monkeypatch.setenv("SLEEPTIME_MAX_RETRIES", "9")
    settings = load_settings()
    assert (settings.max_retries, settings.idle_delay_s) == (9, 5.0)  # env over file, field by field
    settings = load_settings(max_retries=11)
    assert (settings.max_retries, settings.idle_delay_s) == (11, 5.0)  # explicit over env
    assert load_settings(max_retries=None).max_retries == 9  # an unset flag is no override


def test_nested_budgets_merge_across_layers(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(isolated_home, "[sleep_budget]\nrounds = 2\nmax_tokens = 300\n")
    monkeypatch.setenv("SLEEPTIME_SLEEP_BUDGET__MAX_TOKENS", "200")
    settings = load_settings()
    # rounds from the file, max_tokens from the environment, the rest not set
    assert (settings.sleep_budget.rounds, settings.sleep_budget.max_tokens, settings.sleep_budget.k) == (
        2,
        200,
        None,
    )
    engine = Engine(
        model=ScriptedModel(), store=f"sqlite:///{isolated_home / 'db.sqlite'}", settings=settings
    )
    resolved = engine.resolve_sleep_budget({"k": 2})  # the call's budget, then the settings, then defaults
    assert (resolved.rounds, resolved.k, resolved.max_tokens, resolved.seed) == (2, 2, 200, 0)
    explicit = load_settings(sleep_budget=Budget(rounds=5))
    assert explicit.sleep_budget.rounds == 5  # an explicit budget replaces the configured one
    engine.close()


def test_engine_keyword_overrides_are_explicit_arguments(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(isolated_home, "request_timeout_s = 30.0\n")
    monkeypatch.setenv("SLEEPTIME_REQUEST_TIMEOUT_S", "60")
    engine = Engine(
        model=ScriptedModel(), store=f"sqlite:///{isolated_home / 'db.sqlite'}", request_timeout_s=90.0
    )
    assert engine.settings.request_timeout_s == 90.0
    engine.close()
    engine = Engine(model=ScriptedModel(), store=f"sqlite:///{isolated_home / 'db.sqlite'}")
    assert engine.settings.request_timeout_s == 60.0
    engine.close()
