"""A killed run, resumed, ends with the summary of an uninterrupted run and recomputes no call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sleeptime.bench.cache import CachingModel
from sleeptime.bench.experiments import run_experiment
from sleeptime.bench.experiments.pareto import Options
from sleeptime.bench.runner import BenchRun, close_engine, open_engine
from sleeptime.llm.base import LLM
from sleeptime.settings import load_settings

from .bench_fakes import HashModel, KillAfter, Killed

HERE = Path(__file__).parent


def _config(data_dir: Path) -> Options:
    return Options(
        dataset="stateful-gsm-symbolic-p2",
        limit=4,
        seeds=2,
        data_dir=data_dir,
        verbosities=(0, 3),
        sleep_rounds=2,
    )


def _run(out: Path, model: LLM, data_dir: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """Run the experiment in ``out``; returns summary.json and the call log's made/replayed counts."""
    engine, _ = open_engine(load_settings(), out, model=model)
    bench = BenchRun(engine, _config(data_dir), out, show_progress=False)
    try:
        run_experiment(bench)
        assert isinstance(engine.model, CachingModel)
        counts = {"made": engine.model.log.misses, "replayed": engine.model.log.hits}
    finally:
        bench.close()
        close_engine(engine)
    return json.loads((out / "summary.json").read_text(encoding="utf-8")), counts


@pytest.fixture
def uninterrupted(tmp_path: Path, data_dir: Path) -> tuple[dict[str, Any], int]:
    model = HashModel()
    summary, counts = _run(tmp_path / "whole", model, data_dir)
    assert counts["made"] == model.calls > 20
    return summary, model.calls


@pytest.mark.parametrize("kill_after", [1, 9, 25])
def test_resuming_a_killed_run(
    kill_after: int, uninterrupted: tuple[dict[str, Any], int], tmp_path: Path, data_dir: Path
) -> None:
    summary, total_calls = uninterrupted
    out = tmp_path / "killed"
    killer = KillAfter(HashModel(), kill_after)
    with pytest.raises(Killed):
        _run(out, killer, data_dir)
    assert killer.calls == kill_after
    rows_before = len((out / "results.jsonl").read_text(encoding="utf-8").splitlines())

    model = HashModel()
    resumed, counts = _run(out, model, data_dir)
    assert resumed == summary
    assert model.calls == counts["made"] == total_calls - kill_after  # nothing computed twice
    assert len((out / "results.jsonl").read_text(encoding="utf-8").splitlines()) == summary["counts"]["rows"]
    assert rows_before < summary["counts"]["rows"]

    again = HashModel()
    assert _run(out, again, data_dir)[0] == summary and again.calls == 0  # re-plotting is free


SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {here!r})
from bench_fakes import HashModel
from sleeptime.bench.experiments import run_experiment
from sleeptime.bench.experiments.pareto import Options
from sleeptime.bench.runner import BenchRun, open_engine
from sleeptime.settings import load_settings

out = Path({out!r})
engine, _ = open_engine(load_settings(), out, model=HashModel(delay_s=0.02))
config = Options.model_validate_json({config!r})
run_experiment(BenchRun(engine, config, out, show_progress=False))
"""


def test_resuming_after_sigkill(
    uninterrupted: tuple[dict[str, Any], int], tmp_path: Path, data_dir: Path
) -> None:
    summary, total_calls = uninterrupted
    out = tmp_path / "sigkilled"
    script = SCRIPT.format(here=str(HERE), out=str(out), config=_config(data_dir).model_dump_json())
    proc = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    results = out / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and len(results.read_bytes().splitlines()) >= 5:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    made_before = len((out / "calls.jsonl").read_bytes().splitlines())

    model = HashModel()
    resumed, _ = _run(out, model, data_dir)
    assert resumed == summary
    # A call under way at the kill (or whose log line was cut short) is made again; no other is.
    assert total_calls - made_before <= model.calls <= total_calls - made_before + 1
