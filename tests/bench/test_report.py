"""The report directory: summary.json, CSV, report.md with the paper's claims, and the plots."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from sleeptime.bench.experiments import EXPERIMENTS, Claim, Outcome, run_experiment
from sleeptime.bench.experiments.pareto import Options as ParetoOptions
from sleeptime.bench.report import clean, markdown, markdown_table, summary, write_report
from sleeptime.bench.runner import BenchRun, close_engine, open_engine
from sleeptime.settings import load_settings

from .bench_fakes import HashModel

PNG = b"\x89PNG\r\n\x1a\n"


def _outcome(claims: list[Claim]) -> Outcome:
    config = ParetoOptions(dataset="stateful-gsm-symbolic-p2", limit=2)
    table = [
        {
            "condition": "sleep-time v0",
            "kind": "sleep",
            "accuracy": 0.5,
            "accuracy_std": 0.1,
            "test_tokens": 12.0,
        },
        {"condition": "test-time v0", "kind": "test-time", "accuracy": float("nan"), "test_tokens": 30.25},
    ]
    rows = [{"seed": 0, "example_id": "a", "condition": "sleep-time v0", "error": None}]
    return Outcome("pareto", config, "tiny", rows, {"conditions": table}, claims, ["a note"])


def test_summary_is_strict_json_and_report_states_each_claim(tmp_path: Path) -> None:
    claims = [
        Claim("Fewer tokens", "~5x fewer", "2.0x", True),
        Claim("Baseline ahead at the top", "slightly ahead", "-3 pp", False),
        Claim("Grows", "grows", "no data", None),
    ]
    written = write_report(_outcome(claims), tmp_path, command="sleeptime bench pareto --limit 2")
    assert set(written) == {"summary.json", "summary.csv", "conditions.csv", "report.md"}

    def no_nan(token: str) -> None:
        raise AssertionError(f"non-standard JSON constant {token}")

    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"), parse_constant=no_nan)
    assert data["tables"]["conditions"][1]["accuracy"] is None
    assert [c["holds"] for c in data["claims"]] == [True, False, None]
    assert data["counts"] == {"rows": 1, "seeds": 1, "examples": 1, "conditions": 1, "errors": 0}

    with (tmp_path / "summary.csv").open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [r["condition"] for r in table] == ["sleep-time v0", "test-time v0"]
    assert table[1]["accuracy"] == ""

    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "`sleeptime bench pareto --limit 2`" in report
    assert "| Fewer tokens | ~5x fewer | 2.0x | yes |" in report
    assert "| Baseline ahead at the top | slightly ahead | -3 pp | **no** |" in report
    assert "cannot tell" in report and "does not hold here" in report
    assert "50.0% ± 10.0" in report and "30.2" in report and "n/a" in report
    assert "- a note" in report


def test_summary_has_nothing_that_changes_between_identical_runs() -> None:
    outcome = _outcome([])
    assert summary(outcome) == summary(_outcome([]))
    assert "This invocation" in markdown(outcome, command=None, run_stats={"calls_made": 3})


def test_markdown_table_and_clean() -> None:
    assert markdown_table([]) == "(no rows)\n"
    text = markdown_table([{"a": 1, "gain": 0.25, "gain_std": 0.0, "x": "p|q"}])
    assert text.splitlines()[0] == "| a | gain | x |" and "25.0%" in text and "p\\|q" in text
    assert clean({"x": [math.inf, 1.0, {"y": math.nan}]}) == {"x": [None, 1.0, {"y": None}]}


@pytest.mark.parametrize("experiment", sorted(set(EXPERIMENTS) - {"predictability"}))
def test_every_experiment_writes_its_report_and_plot(experiment: str, tmp_path: Path, data_dir: Path) -> None:
    """The whole pipeline on a fake model (the real small model: test_experiments_e2e.py)."""
    dataset = {"amortization": "multi-query-gsm-symbolic-p2", "swe": "swe-features"}.get(
        experiment, "stateful-gsm-symbolic-p2"
    )
    own = {"scaling": {"ks": (1, 2), "rounds": (1,)}, "amortization": {"ns": (1, 2)}, "passk": {"n": 3}}
    own["swe"] = {"steps": (1, 2)}
    config = EXPERIMENTS[experiment].options(
        dataset=dataset,
        limit=3,
        seeds=2,
        data_dir=data_dir,
        verbosities=(0, 2) if experiment not in ("swe",) else None,
        **own.get(experiment, {}),
    )
    engine, _ = open_engine(load_settings(), tmp_path, model=HashModel())
    bench = BenchRun(engine, config, tmp_path, show_progress=False)
    try:
        outcome, written = run_experiment(bench)
    finally:
        bench.close()
        close_engine(engine)
    png = tmp_path / f"{experiment}.png"
    assert written[f"{experiment}.png"] == png and png.read_bytes().startswith(PNG)
    for name in ("summary.json", "summary.csv", "report.md", "results.jsonl", "calls.jsonl"):
        assert (tmp_path / name).is_file(), name
    assert outcome.claims and all(c.measured for c in outcome.claims)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"![{experiment}]({experiment}.png)" in report
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert data["counts"]["seeds"] == 2 and data["counts"]["rows"] == len(outcome.rows)
    assert all(0.0 <= r["score"] <= 1.0 for r in outcome.rows)
