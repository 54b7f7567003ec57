"""`sleeptime bench`: commands built from the experiment records, --dry-run, progress in a log,
and what a failed run leaves behind (the fake model, no real model loaded)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import sleeptime.llm
from sleeptime.bench.experiments import EXPERIMENTS
from sleeptime.cli import app, run
from sleeptime.errors import BackendError
from sleeptime.llm.base import Completion, Message, SamplingParams
from sleeptime.settings import Settings

from .bench_fakes import RETHINK, HashModel


class FailsAfter(HashModel):
    """Answers ``calls_ok`` calls, then the backend is down (a SleeptimeError: the run stops)."""

    def __init__(self, calls_ok: int) -> None:
        super().__init__()
        self.calls_ok = calls_ok

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        if self.calls >= self.calls_ok:
            raise BackendError("the endpoint is down", hint="try again later")
        return super().complete(messages, params)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> dict[str, HashModel]:
    """``--model hash`` (or ``fails-after-N``) loads a fake model instead of a real one."""
    made: dict[str, HashModel] = {}
    real = sleeptime.llm.load_model

    def load(spec: str, settings: Settings, **kwargs: Any) -> Any:
        if spec == "hash" or spec.startswith("fails-after-"):
            made[spec] = HashModel() if spec == "hash" else FailsAfter(int(spec.rsplit("-", 1)[1]))
            return made[spec]
        return real(spec, settings, **kwargs)

    monkeypatch.setattr(sleeptime.llm, "load_model", load)
    return made


def _args(model: str, out: Path, data_dir: Path, *extra: str) -> list[str]:
    sleep = ["--sleep", json.dumps(RETHINK)] if RETHINK else []
    return [
        "--model", model, "bench", "ablation", "--data-dir", str(data_dir), "--limit", "2", "--seeds", "1",
        "--sleep-rounds", "1", "--out", str(out), *sleep, *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_option_of_the_model_is_a_flag_with_help(name: str) -> None:
    result = CliRunner().invoke(app, ["bench", name, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for field, info in EXPERIMENTS[name].options.model_fields.items():
        assert f"--{field.replace('_', '-')}" in result.output
        assert info.description, f"{name}.{field} has no description"
    for flag in ("--out", "--progress", "--dry-run"):
        assert flag in result.output
    assert EXPERIMENTS[name].summary[:30] in result.output


def test_dry_run_counts_calls_and_leaves_nothing(
    fake_model: dict[str, HashModel], tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert run(_args("hash", out, data_dir, "--dry-run")) == 0
    printed = capsys.readouterr().out
    # 2 examples x 3 conditions (sleep-time, test-time, context-only) at verbosity 0; one sleep
    # call per example.
    assert "2 example(s) x 3 condition(s): 6 answer(s), 0 already in results.jsonl" in printed
    assert "model calls: at most 8 (2 sleep, 6 answer)" in printed if RETHINK else "model calls" in printed
    assert "estimated time" in printed and "a guess" in printed
    assert fake_model["hash"].calls == 0 and not out.exists()

    assert run(_args("hash", out, data_dir, "--no-progress")) == 0  # the real run
    capsys.readouterr()
    assert run(_args("hash", out, data_dir, "--dry-run")) == 0
    again = capsys.readouterr().out
    assert "6 already in results.jsonl" in again and "model calls: at most" in again
    assert "logged call(s) of hash-model" in again  # the estimate now uses measured latencies
    assert (out / "report.md").is_file()


def test_progress_is_plain_lines_in_a_log(
    fake_model: dict[str, HashModel], tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_args("hash", tmp_path / "report", data_dir)) == 0
    err = capsys.readouterr().err
    assert "answers: 0/6" in err and "answers: 6/6 (100%)" in err and "\x1b[" not in err


def test_a_run_that_fails_before_any_answer_leaves_no_directory(
    fake_model: dict[str, HashModel], tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert run(_args("fails-after-0", out, data_dir, "--no-progress")) == 1
    assert "the endpoint is down" in capsys.readouterr().err
    assert not out.exists()


def test_a_run_that_fails_later_keeps_its_work_and_says_how_to_resume(
    fake_model: dict[str, HashModel], tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert run(_args("fails-after-3", out, data_dir, "--no-progress")) == 1
    err = capsys.readouterr().err
    assert "run the same command again to resume" in err
    assert (out / "calls.jsonl").stat().st_size > 0 and not (out / "report.md").exists()
    assert run(_args("hash", out, data_dir, "--no-progress")) == 0
    assert fake_model["hash"].calls < 8  # the 3 calls made before are replayed
    assert (out / "report.md").is_file()


def test_scaling_sweeps_any_budget_knob_given_as_json() -> None:
    import typer

    from sleeptime.bench.experiments import scaling
    from sleeptime.budget import Budget
    from sleeptime.cli.bench import parse_options

    knob = next(k for k in ("votes", "questions", "rounds") if k in Budget.model_fields)
    given = {"ks": "1", "rounds": "1", "sleep_budgets": json.dumps([{knob: 2}, {"k": 2, "max_tokens": 64}])}
    options = parse_options(scaling.Options, given)
    assert isinstance(options, scaling.Options)
    names = [c.name for c in scaling.conditions(options)]
    assert names == [
        "sleep k=1 v0",
        "sleep rounds=1 v0",
        f"sleep {knob}=2 v0",
        "sleep k=2 max_tokens=64 v0",
        "test-time v0",
    ]
    specs = [c.sleep for c in scaling.conditions(options) if c.sleep is not None]
    assert specs[2].budget(0).model_dump(exclude_none=True)[knob] == 2
    for bad in ('[{"no_such_knob": 1}]', '[{"k": 99}]', '{"k": 2}', "not json"):
        with pytest.raises(typer.BadParameter) as error:
            parse_options(scaling.Options, {"sleep_budgets": bad})
        assert error.value.param_hint == "--sleep-budgets"
    with pytest.raises(typer.BadParameter, match="no_such_knob"):
        parse_options(scaling.Options, {"sleep_budgets": '[{"no_such_knob": 1}]'})
