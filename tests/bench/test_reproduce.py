"""benchmarks/reproduce.sh: every report under $OUT, and a small mode (run with a stand-in CLI)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "reproduce.sh"


def _runs(tmp_path: Path, **env: str) -> list[list[str]]:
    """The sleeptime command lines the script runs, recorded by a stand-in executable."""
    log = tmp_path / "calls.txt"
    fake = tmp_path / "sleeptime"
    fake.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> {log}\n', encoding="utf-8")
    fake.chmod(0o755)
    environ = {k: v for k, v in os.environ.items() if k not in ("SMALL", "OUT", "MODEL", "SCALE")}
    subprocess.run(["bash", str(SCRIPT)], env={**environ, "SLEEPTIME": str(fake), **env}, check=True)
    return [line.split() for line in log.read_text(encoding="utf-8").splitlines()]


def _flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_every_report_and_the_call_log_go_under_out(tmp_path: Path) -> None:
    out = tmp_path / "results"
    runs = _runs(tmp_path, OUT=str(out))
    assert len(runs) == 13
    outs = [_flag(r, "--out") for r in runs]
    assert all(Path(o).parent == out for o in outs) and len(set(outs)) == len(outs)
    assert {_flag(r, "--calls") for r in runs} == {str(out / "calls-default.jsonl")}
    assert str(out / "pareto-stateful-gsm-symbolic-p2-default") in outs
    assert str(out / "amortization-multi-query-gsm-symbolic-p2-default-n10") in outs


def test_small_mode_runs_each_experiment_once_with_tiny_budgets(tmp_path: Path) -> None:
    out = tmp_path / "small"
    runs = _runs(tmp_path, OUT=str(out), SMALL="1")
    experiments = [r[r.index("bench") + 3] for r in runs]  # bench --calls FILE EXPERIMENT
    assert set(experiments) == {
        "pareto",
        "passk",
        "scaling",
        "amortization",
        "predictability",
        "ablation",
        "swe",
    }
    assert all(_flag(r, "--model") == "smollm2-135m" for r in runs)
    assert all(_flag(r, "--limit") == "2" for r in runs if "--limit" in r)
    assert all(_flag(r, "--max-tokens") == "64" and _flag(r, "--sleep-rounds") == "1" for r in runs)
    assert all(Path(_flag(r, "--out")).parent == out for r in runs)
