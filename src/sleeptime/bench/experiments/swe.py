"""Experiment 7: the SWE-Features case study, kept simple.

The context is the repository description with related pull requests (titles,
bodies, patches); sleep-time compute studies it once. The query is the target
PR's description, and the model must name the files to modify or create. Its
test-time budget is a number of steps N: each step is one ``Engine.ask`` that
shows "[Step: i/N]" and the files named so far, and may add files or say DONE.
The score is the F1 between the named files and the files the PR modified.

This is not the paper's agent, which explored a checked-out repository with
tools; it measures the same trade (sleep-time study of the context against
test-time steps) on what the dataset ships. The paper: ~1.5x fewer test-time
tokens at low budgets, the baseline ahead at high budgets.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from ...llm.base import Usage
from .. import plots
from ..asking import AskRequest, Attempt
from ..config import BenchOptions, Condition
from ..datasets import QA, Example, file_f1
from ..datasets.swe_features import normalize_path
from ..metrics import condition_table
from ..runner import BenchRun
from .common import Experiment, Outcome, build_outcome, paired_over, sleep_spec
from .pareto import tokens_claims

DEFAULT_VERBOSITY = 3
_EXTENSIONS = "py|pyi|md|rst|txt|json|toml|yaml|yml|cfg|ini|js|jsx|ts|tsx|css|html|rs|go|java|c|h|cc|cpp|sh"
_PATH = re.compile(rf"(?<![\w/.:-])((?:[\w.-]+/)*[\w-]+\.(?:{_EXTENSIONS}))(?![\w/])")


def files_in(text: str) -> list[str]:
    """Paths named in a model's answer, in order, without repeats (URLs and bare names skipped)."""
    seen: list[str] = []
    for m in _PATH.finditer(text):
        path = normalize_path(m.group(1))
        if path not in seen:
            seen.append(path)
    return seen


def step_question(description: str, step: int, steps: int, files: list[str]) -> str:
    listed = ", ".join(files) if files else "none yet"
    what_next = (
        "This is the last step: give the final list."
        if step == steps
        else "Add any file that is missing, or write DONE if the list is complete."
    )
    return (
        f"PULL REQUEST TO IMPLEMENT:\n{description.strip()}\n\n"
        "Name every file of the repository that must be modified or created to implement this pull "
        "request (source, tests, docs), one path per line.\n"
        f"[Step: {step}/{steps}] Files named so far: {listed}. {what_next}"
    )


def ask_in_steps(request: AskRequest) -> Attempt:
    """Up to ``condition.steps`` asks; the answer is the files named across them."""
    cond = request.condition
    steps = cond.steps or 1
    files: list[str] = []
    usage, latency, used = Usage(), 0.0, 0
    for step in range(1, steps + 1):
        answer = request.engine.ask(
            request.context_id,
            step_question(request.qa.question, step, steps, files),
            request.budget,
            learned_id=request.learned_id,
            use_learned=request.use_learned,
            truncate=True,
            record=False,
        )
        usage, latency, used = usage + answer.usage, latency + answer.latency_s, step
        files += [f for f in files_in(answer.text) if f not in files]
        if files and re.search(r"\bDONE\b", answer.text):
            break
    source = "learned" if request.use_learned else "raw"
    return Attempt("\n".join(files), usage, latency, (), source, {"files": files, "steps_used": used})


def grade_files(example: Example, qa: QA, text: str) -> float:
    return file_f1([line for line in text.splitlines() if line.strip()], example.meta.get("gold_files", []))


class Options(BenchOptions):
    dataset: str = Field("swe-features", description="Dataset: swe-features (see --tasks).")
    steps: tuple[Annotated[int, Field(ge=1, le=50)], ...] = Field(
        (1, 2, 4), description="Step budgets, e.g. 1,2,4."
    )
    tasks: Path | None = Field(None, description="SWE-Features JSONL (default: the bundled task).")

    def dataset_options(self) -> dict[str, Any]:
        return {**super().dataset_options(), **({"path": self.tasks} if self.tasks is not None else {})}


def conditions(options: Options) -> list[Condition]:
    v = (options.verbosities or (DEFAULT_VERBOSITY,))[0]
    return paired_over(v, sleep_spec(options), [(f"{n} steps", n, {"steps": n}) for n in options.steps])


def run(bench: BenchRun) -> Outcome:
    options = bench.options_as(Options)
    rows = bench.run(conditions(options), asker=ask_in_steps, grader=grade_files)
    table = condition_table(rows)
    claims = tokens_claims(table, metric="file F1")
    claims[0] = replace(claims[0], paper="~1.5x fewer")
    if len(claims) > 1:
        claims[1] = replace(
            claims[1], claim="At the highest step budget, test-time-only is ahead", paper="baseline ahead"
        )
    notes = [
        "Accuracy here is the mean file F1. A simplified case study: the model names files from the "
        "PR description and the related PRs; it does not browse or edit a repository."
    ]
    if options.tasks is None:
        notes.append("Run on the one bundled example task (pass --tasks FILE for the real SWE-Features set).")
    return build_outcome("swe", options, bench, rows, {"conditions": table}, claims, notes)


def plot(outcome: Outcome, path: Path) -> Path:
    return plots.tradeoff(outcome, path, "file F1")


EXPERIMENT = Experiment(
    "swe",
    "SWE-Features case study: name the files a feature PR modifies, under a step budget; file F1.",
    Options,
    run,
    plot,
)

__all__ = [
    "EXPERIMENT",
    "Options",
    "ask_in_steps",
    "conditions",
    "files_in",
    "grade_files",
    "plot",
    "run",
    "step_question",
]
