"""``sleeptime quickstart``: sleep-time compute against the test-time baseline, on shipped examples.

For every example context: sleep on it, then answer each of its questions three
ways: from the learned context at a low budget, from the raw context at the same
low budget, and the test-time baseline at a high budget. Cost per query follows
the paper: generated tokens only, test-time tokens weighted ``t`` times, the
sleep tokens of a context shared by its N queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from ..bench.grading import grade_gsm
from ..budget import Budget
from ..costs import DEFAULT_T, cost_per_query
from ..engine import Engine
from ..errors import InvalidInputError
from ..progress import Tracker
from ..settings import load_settings
from .app import app, console, err_console, state_of
from .quickstart_report import print_report
from .waiting import load_model


@dataclass(frozen=True)
class Mode:
    name: str
    use_learned: bool
    verbosity: int


def modes(low: int, high: int) -> tuple[Mode, ...]:
    return (
        Mode(f"sleep-time v{low}", True, low),
        Mode(f"test-time v{low}", False, low),
        Mode(f"test-time v{high}", False, high),
    )


def load_examples(path: Path | None) -> list[dict[str, Any]]:
    try:
        if path is None:
            raw = (
                resources.files("sleeptime.examples").joinpath("quickstart.json").read_text(encoding="utf-8")
            )
        else:
            raw = path.read_text(encoding="utf-8")
        contexts = json.loads(raw)["contexts"]
        for item in contexts:
            if not item["text"].strip() or not item["questions"]:
                raise ValueError(f"context {item.get('name')!r} has no text or no questions")
            for qa in item["questions"]:
                str(qa["question"]), str(qa["answer"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(
            f"cannot use examples file {path}: {exc}",
            hint='expected {"contexts": [{"name", "text", "questions": [{"question", "answer"}]}]}',
        ) from None
    return list(contexts)


def run_quickstart(
    engine: Engine,
    examples: list[dict[str, Any]],
    *,
    low: int,
    high: int,
    t: float,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Sleep and ask on every example; returns per-question rows and per-mode summaries."""
    chosen = modes(low, high)
    n_questions = sum(len(e["questions"]) for e in examples)
    rows: list[dict[str, Any]] = []
    sleeps: list[dict[str, Any]] = []
    with Tracker(err_console, enabled=show_progress) as progress:
        # Contexts, not calls: how many calls a sleep makes depends on the strategy and the model.
        sleeping = progress.add_task("sleeping (contexts)", total=len(examples))
        asking = progress.add_task("answering", total=n_questions * len(chosen))
        for example in examples:
            context = engine.add_context(example["text"], {"example": example.get("name", "")})
            learned = engine.sleep(context.id)
            progress.advance(sleeping)
            sleeps.append(
                {
                    "context": example.get("name", context.id),
                    "context_id": context.id,
                    "sleep_completion_tokens": learned.usage.completion_tokens,
                    "sleep_seconds": round(learned.duration_s, 2),
                    "learned_context": learned.text,
                }
            )
            # Mode by mode, so that consecutive prompts share the context (and notes) prefix that
            # llama.cpp keeps in its KV cache, as an app asking several questions would.
            for mode in chosen:
                for qa in example["questions"]:
                    answer = engine.ask(
                        context.id,
                        qa["question"],
                        Budget(verbosity=mode.verbosity),
                        use_learned=mode.use_learned,
                    )
                    rows.append(
                        {
                            "context": example.get("name", context.id),
                            "question": qa["question"],
                            "gold": qa["answer"],
                            "mode": mode.name,
                            "answer": answer.text,
                            "correct": grade_gsm(answer.text, str(qa["answer"])),
                            "completion_tokens": answer.usage.completion_tokens,
                            "latency_s": round(answer.latency_s, 3),
                            "n_queries_on_context": len(example["questions"]),
                            "sleep_completion_tokens": learned.usage.completion_tokens
                            if mode.use_learned
                            else 0,
                        }
                    )
                    progress.advance(asking)
    return {
        "model": engine.model.name,
        "t": t,
        "rows": rows,
        "sleeps": sleeps,
        "summary": summarize(rows, chosen, t),
    }


def summarize(rows: list[dict[str, Any]], chosen: tuple[Mode, ...], t: float) -> list[dict[str, Any]]:
    """Per mode: accuracy, mean test-time tokens and latency, amortized cost per query."""
    out = []
    for mode in chosen:
        mine = [r for r in rows if r["mode"] == mode.name]
        if not mine:
            continue
        n = len(mine)
        test_tokens = sum(r["completion_tokens"] for r in mine) / n
        # Each query carries its context's sleep tokens divided among that context's queries.
        sleep_share = sum(r["sleep_completion_tokens"] / r["n_queries_on_context"] for r in mine) / n
        costs = [
            cost_per_query(r["completion_tokens"], r["sleep_completion_tokens"], r["n_queries_on_context"], t)
            for r in mine
        ]
        out.append(
            {
                "mode": mode.name,
                "accuracy": sum(r["correct"] for r in mine) / n,
                "questions": n,
                "avg_test_completion_tokens": round(test_tokens, 1),
                "avg_latency_s": round(sum(r["latency_s"] for r in mine) / n, 2),
                "avg_sleep_tokens_per_query": round(sleep_share, 1),
                "amortized_cost_per_query": round(sum(costs) / n, 1),
            }
        )
    return out


@app.command("quickstart")
def quickstart(
    ctx: typer.Context,
    examples: Annotated[
        Path | None, typer.Option(help="Your own examples JSON (default: the shipped ones).")
    ] = None,
    low: Annotated[int, typer.Option(min=0, max=4, help="Low test-time verbosity.")] = 0,
    high: Annotated[int, typer.Option(min=0, max=4, help="High (baseline) test-time verbosity.")] = 4,
    t: Annotated[
        float, typer.Option(min=0.0, help="Weight of a test-time token vs a sleep-time token.")
    ] = DEFAULT_T,
    keep: Annotated[
        bool, typer.Option(help="Keep the quickstart database instead of starting fresh.")
    ] = False,
    wide: Annotated[bool, typer.Option(help="Every figure (latency, sleep tokens) in wider tables.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Sleep on the shipped examples and compare against the test-time baseline."""
    state = state_of(ctx)
    settings = state.settings
    overrides = dict(state.overrides)
    if overrides.get("db_url") is None:
        # The user's own store stays clean: the quickstart keeps its own database.
        db_path = settings.home / "quickstart.db"
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        overrides["db_url"] = f"sqlite:///{db_path}"
    state._settings = load_settings(**overrides)
    engine = state.engine()
    load_model(engine, enabled=not as_json)
    result = run_quickstart(
        engine, load_examples(examples), low=low, high=high, t=t, show_progress=not as_json
    )
    if as_json:
        console.print_json(json.dumps(result))
    else:
        print_report(result, console, wide=wide)
