"""Every experiment end to end on the real small model: 2 examples, tiny budgets, one thread.

The experiments share one call log, so what one already asked (the same sleep on the
same example, the same answer prompt) the next replays, as re-runs in one report
directory do. The last test runs the CLI on a copy of that log: it must recompute nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sleeptime.bench.cache import JsonlLog, caching
from sleeptime.bench.experiments import EXPERIMENTS, Outcome, run_experiment
from sleeptime.bench.metrics import mean
from sleeptime.bench.runner import BenchRun
from sleeptime.cli import app
from sleeptime.engine import Engine
from sleeptime.llm.llamacpp import LlamaCppModel

from .bench_fakes import RETHINK

N_CTX = 4096
TINY: dict[str, Any] = {
    "limit": 2,
    "seeds": 1,
    "max_tokens": 8,
    "sleep_max_tokens": 16,
    "sleep_rounds": 1,
    "verbosities": (0,),
    "sleep": RETHINK,  # the paper's strategy: one call per round, affordable at 16 tokens
}
OWN: dict[str, dict[str, Any]] = {
    "pareto": {"dataset": "stateful-gsm-symbolic-p2", "verbosities": (0, 2)},
    "passk": {"dataset": "stateful-gsm-symbolic-p2", "n": 2},
    "scaling": {"dataset": "stateful-gsm-symbolic-p2", "ks": (1, 2), "rounds": (1,)},
    "amortization": {"dataset": "multi-query-gsm-symbolic-p2", "ns": (1, 2), "min_questions": 2},
    "predictability": {"dataset": "stateful-gsm-symbolic-p2"},
    "ablation": {"dataset": "stateful-gsm-symbolic-p2"},
    "swe": {"dataset": "swe-features", "steps": (1, 2), "verbosities": None, "max_tokens": 12},
}
# A short task (the bundled one's prompts are ~1,000 tokens, slow on one shared core).
SWE_TASK = {
    "id": "tiny-export",
    "repo": "example/tiny",
    "repo_description": "tiny/store.py holds Store; tiny/cli.py the command line.",
    "related_prs": [
        {
            "number": 1,
            "title": "Add keys command",
            "body": "Adds Store.keys.",
            "patch": "diff --git a/tiny/cli.py b/tiny/cli.py\n+    keys()\n",
        }
    ],
    "target_pr": {
        "number": 2,
        "title": "Add export",
        "description": "Add tiny/export.py and an export command in tiny/cli.py.",
        "modified_files": ["tiny/export.py", "tiny/cli.py", "tests/test_export.py"],
    },
}


@pytest.fixture(scope="module")
def small(smollm2_path: Path) -> Iterator[LlamaCppModel]:
    """The small model on one thread: the machine's cores are shared with other model processes."""
    model = LlamaCppModel(smollm2_path, name="smollm2-135m", n_ctx=N_CTX, n_threads=1)
    yield model
    model.close()


@pytest.fixture(scope="module")
def shared_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonlLog]:
    log = JsonlLog(tmp_path_factory.mktemp("shared") / "calls.jsonl")
    yield log
    log.close()


def _check_consistent(out: Path, outcome_rows: list[dict[str, Any]], experiment: str) -> dict[str, Any]:
    """The summary's per-condition numbers are those of results.jsonl."""
    data: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(outcome_rows) == data["counts"]["rows"] > 0
    for line in data["tables"]["conditions"]:
        mine = [r for r in lines if r["condition"] == line["condition"]]
        assert line["questions"] == len(mine) > 0
        assert line["accuracy"] == pytest.approx(mean(r["score"] for r in mine))
        assert line["test_tokens"] == pytest.approx(mean(r["test_completion_tokens"] for r in mine))
        assert 0.0 <= line["accuracy"] <= 1.0 and line["test_tokens"] > 0
    assert all(r["kind"] != "sleep" or r["sleep_completion_tokens"] > 0 for r in lines)
    png = out / f"{experiment}.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    for name in ("summary.csv", "report.md"):
        assert (out / name).stat().st_size > 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "smollm2-135m" in report and "| claim | paper | measured here | holds here? |" in report
    return data


def _run(
    experiment: str, model: LlamaCppModel, log: JsonlLog, out: Path, data_dir: Path
) -> tuple[Outcome, dict[str, Path]]:
    """The experiment through the Python API, its calls logged to (and replayed from) ``log``."""
    options = {**TINY, **OWN[experiment]}
    if experiment == "swe":
        options["tasks"] = out / "tasks.jsonl"
        options["tasks"].write_text(json.dumps(SWE_TASK) + "\n", encoding="utf-8")
    config = EXPERIMENTS[experiment].options(data_dir=data_dir, **options)
    engine = Engine(model=caching(model, log), store=f"sqlite:///{out / 'bench.db'}")
    bench = BenchRun(engine, config, out, show_progress=False)
    try:
        return run_experiment(bench, command=f"sleeptime bench {experiment}")
    finally:
        bench.close()
        engine.close()


@pytest.mark.parametrize("experiment", list(OWN))
def test_experiment_end_to_end(
    experiment: str, small: LlamaCppModel, shared_log: JsonlLog, tmp_path: Path, data_dir: Path
) -> None:
    outcome, written = _run(experiment, small, shared_log, tmp_path, data_dir)
    assert {"summary.json", "summary.csv", "report.md", f"{experiment}.png"} <= set(written)
    data = _check_consistent(tmp_path, outcome.rows, experiment)
    assert data["model"] == "smollm2-135m" and data["claims"]
    if experiment == "passk":
        curve = data["tables"]["passk"]
        assert [p["k"] for p in curve] == [1, 2]
        assert curve[0]["pass_at_k"] <= curve[1]["pass_at_k"]
        assert curve[1]["test_tokens"] == pytest.approx(2 * curve[0]["test_tokens"])
    if experiment == "amortization":
        table = data["tables"]["amortization"]
        assert {r["n_queries"] for r in table} == {1, 2}
        sleep = {r["n_queries"]: r for r in table if r["kind"] == "sleep"}
        for n, r in sleep.items():
            assert r["cost_per_query"] == pytest.approx(
                10 * r["test_tokens"] + r["sleep_tokens_per_context"] / n
            )
    if experiment == "predictability":
        assert all(r["predictability"] is not None and r["predictability"] < 0 for r in outcome.rows)
        assert sum(b["examples"] for b in data["tables"]["bins"]) == 2
    if experiment == "swe":
        assert all("files" in r and 1 <= r["steps_used"] <= 2 for r in outcome.rows)
    if experiment == "scaling":
        k2 = next(r for r in data["tables"]["conditions"] if r["condition"] == "sleep k=2 v0")
        k1 = next(r for r in data["tables"]["conditions"] if r["condition"] == "sleep k=1 v0")
        assert k2["sleep_tokens_per_context"] > k1["sleep_tokens_per_context"]


def test_cli_replays_a_finished_run(
    small: LlamaCppModel,
    shared_log: JsonlLog,
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`sleeptime bench ablation` over a call log that already holds its calls: nothing recomputed."""
    (tmp_path / "api").mkdir()
    _run("ablation", small, shared_log, tmp_path / "api", data_dir)  # free if the test above ran
    out = tmp_path / "report"
    out.mkdir()
    shutil.copy(shared_log.path, out / "calls.jsonl")
    monkeypatch.setenv("SLEEPTIME_N_THREADS", "1")
    monkeypatch.setenv("SLEEPTIME_N_CTX", str(N_CTX))
    args = ["--model", "smollm2-135m", "bench", "ablation", "--limit", "2", "--data-dir", str(data_dir)]
    args += ["--max-tokens", "8", "--sleep-max-tokens", "16", "--sleep-rounds", "1", "--verbosities", "0"]
    args += ["--sleep", json.dumps(RETHINK)] if RETHINK else []
    args += ["--out", str(out), "--no-progress"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "model calls: 0 made" in result.output
    assert f"report: {out / 'report.md'}" in result.output
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert data["experiment"] == "ablation" and data["counts"]["rows"] == 6
    assert (out / "ablation.png").is_file() and (out / "bench.db").is_file()
