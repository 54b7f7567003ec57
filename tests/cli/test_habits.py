"""The habits users bring from llm and Ollama: --version, --json listings, config show with
sources, a warning on unknown SLEEPTIME_* variables, shell completion, chat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sleeptime import __version__
from sleeptime.llm.fake import ScriptedModel
from sleeptime.settings import explain_settings, unknown_env_vars

from .conftest import Invoke


def test_version(cli: Invoke) -> None:
    out, _ = cli("--version", base_args=False)
    assert out.strip() == f"sleeptime {__version__}"


def test_every_listing_command_takes_json(cli: Invoke, context_id: str) -> None:
    for args in (["models", "list"], ["models"]):
        models = json.loads(cli(*args, "--json")[0])
        assert {m["name"] for m in models} >= {"qwen2.5-coder-1.5b", "smollm2-135m"}
        assert all({"ready", "size_bytes", "aliases"} <= set(m) for m in models)
    assert [c["id"] for c in json.loads(cli("context", "list", "--json")[0])] == [context_id]
    cli("keys", "create", "--tenant", "t1")
    assert [k["tenant"] for k in json.loads(cli("keys", "list", "--json")[0])] == ["t1"]
    settings = json.loads(cli("config", "show", "--json")[0])
    assert {"name", "value", "source"} <= set(settings[0])


def test_config_show_names_each_source(
    cli: Invoke, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "config.toml").write_text("n_ctx = 2048\n[sleep_budget]\nrounds = 2\n", encoding="utf-8")
    monkeypatch.setenv("SLEEPTIME_N_THREADS", "1")
    monkeypatch.setenv("SLEEPTIME_OPENAI_API_KEY", "sk-secret")
    rows = {r["name"]: r for r in json.loads(cli("config", "show", "--json")[0])}
    assert (rows["n_ctx"]["value"], rows["n_ctx"]["source"]) == (2048, "file")
    assert rows["sleep_budget"]["source"] == "file" and rows["sleep_budget"]["value"]["rounds"] == 2
    assert (rows["n_threads"]["value"], rows["n_threads"]["source"]) == (1, "env")
    assert (rows["model"]["value"], rows["model"]["source"]) == ("scripted", "flag")
    assert rows["max_retries"]["source"] == "default"
    assert rows["openai_api_key"]["value"] == "********"
    out, _ = cli("config", "show")
    assert "sk-secret" not in out and "file" in out and "env" in out


def test_home_flag_reads_that_homes_config(tmp_path: Path) -> None:
    other = tmp_path / "other-home"
    other.mkdir()
    (other / "config.toml").write_text("max_retries = 7\n", encoding="utf-8")
    rows = {r.name: r for r in explain_settings({"home": str(other)})}
    assert (rows["max_retries"].value, rows["max_retries"].source) == (7, "file")


def test_unknown_environment_variables_are_named(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {
        "SLEEPTIME_MODLE": "x",
        "SLEEPTIME_MODEL": "y",
        "SLEEPTIME_SLEEP_BUDGET__ROUNDS": "2",
        "SLEEPTIME_SLEEP_BUDGET__ROUNDZ": "2",
        "SLEEPTIME_DATA_DIR": "/data",
        "SLEEPTIME_TEST_MODELS_DIR": "/m",
        "PATH": "/bin",
    }
    assert unknown_env_vars(environ) == [
        ("SLEEPTIME_MODLE", "SLEEPTIME_MODEL"),
        ("SLEEPTIME_SLEEP_BUDGET__ROUNDZ", "SLEEPTIME_SLEEP_BUDGET"),
    ]
    monkeypatch.setenv("SLEEPTIME_MODLE", "x")
    _, err = cli("context", "list")
    assert "warning: SLEEPTIME_MODLE is not a sleeptime setting" in err and "SLEEPTIME_MODEL?" in err


def test_shell_completion_is_on(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = cli("--help", base_args=False)
    assert "--install-completion" in out and "--show-completion" in out
    monkeypatch.setenv("_SLEEPTIME_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "sleeptime con")
    monkeypatch.setenv("COMP_CWORD", "1")
    out, _ = cli(base_args=False)
    assert out.split() == ["config", "context"]


def test_chat_answers_each_line_with_one_model_load(
    cli: Invoke, context_id: str, scripted: ScriptedModel
) -> None:
    loads_before = len(scripted.loads)  # type: ignore[attr-defined]
    calls_before = len(scripted.calls)
    out, err = cli("chat", context_id, stdin="How many cats?\n\nHow many cans?\nquit\nnot asked\n")
    assert out.count("The answer is 6.") == 2
    assert len(scripted.calls) - calls_before == 2
    assert len(scripted.loads) - loads_before == 1  # type: ignore[attr-defined]
    assert err.count("from the raw context") == 2


def test_chat_keeps_going_after_an_error(cli: Invoke, context_id: str) -> None:
    out, err = cli("chat", context_id, stdin=f"{'x' * 20_001}\nHow many cats?\n")
    assert "error: question has 20,001 characters" in err
    assert "The answer is 6." in out


def test_chat_on_an_unknown_context_fails_at_once(cli: Invoke) -> None:
    _, err = cli("chat", "nope", stdin="q\n", code=1)
    assert "nope" in err


def test_budgets_from_environment_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets are strict about types; their environment variables are text all the same."""
    monkeypatch.setenv("SLEEPTIME_SLEEP_BUDGET__ROUNDS", "2")
    monkeypatch.setenv("SLEEPTIME_SLEEP_BUDGET__REASONING_EFFORT", "low")
    monkeypatch.setenv("SLEEPTIME_ASK_BUDGET__TEMPERATURE", "0.5")
    rows = {r.name: r for r in explain_settings()}
    assert rows["sleep_budget"].value.rounds == 2 and rows["sleep_budget"].source == "env"
    assert rows["sleep_budget"].value.reasoning_effort == "low"
    assert rows["ask_budget"].value.temperature == 0.5
