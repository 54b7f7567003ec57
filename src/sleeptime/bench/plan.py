"""What a run will cost before it starts: ``sleeptime bench ... --dry-run``.

``BenchRun(dry_run=True).run(...)`` counts, instead of making, the model calls the
run needs (sleep calls, answers and their calls, answers already finished in
results.jsonl) and raises ``DryRun`` with the ``Plan``; ``describe_plan`` turns it
into the lines the CLI prints, with a time estimated from this model's calls in
the call log when there are any, else from a rough guess that says it is one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..llm.base import LLM
from .cache import CachingModel

# Seconds per call when the call log has none of this model's: ~11 s was measured for the 1.5B
# default model on 2 cores (a 12-minute `bench pareto --limit 5`: 65 calls); remote, a guess.
GUESS_EMBEDDED_S = 11.0
GUESS_REMOTE_S = 3.0


@dataclass(frozen=True)
class Plan:
    examples: int  # (seed, example) pairs
    conditions: int
    answers: int  # graded answers
    answers_done: int  # already in results.jsonl: read back, no call
    answer_calls: int  # model calls for the answers still to make, at most (samples, steps)
    sleep_calls: int  # at most: a sleep already in the call log is replayed free
    parallel: int = 1
    prepared: bool = False  # examples are prepared first (question generation), not counted here

    @property
    def calls(self) -> int:
        return self.answer_calls + self.sleep_calls


class DryRun(Exception):
    """Raised by a dry run where the model calls would start; carries the plan."""

    def __init__(self, plan: Plan) -> None:
        super().__init__("dry run")
        self.plan = plan


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def seconds_per_call(model: LLM, *, embedded: bool) -> tuple[float, str]:
    """This model's mean latency per logged call, else a guess; and where the number came from."""
    if isinstance(model, CachingModel):
        times = [
            float(r["latency_s"])
            for r in model.log.values()
            if r.get("model") == model.name and isinstance(r.get("latency_s"), (int, float))
        ]
        if times:
            return sum(times) / len(times), f"the mean of {len(times)} logged call(s) of {model.name}"
    if embedded:
        return GUESS_EMBEDDED_S, "a guess, as measured for the 1.5B default model on 2 cores"
    return GUESS_REMOTE_S, "a guess for a remote endpoint"


def describe_plan(plan: Plan, model: LLM, *, embedded: bool) -> str:
    per_call, source = seconds_per_call(model, embedded=embedded)
    lines = [
        f"dry run: {plan.examples} example(s) x {plan.conditions} condition(s): {plan.answers} answer(s), "
        f"{plan.answers_done} already in results.jsonl",
        f"model calls: at most {plan.calls} ({plan.sleep_calls} sleep, {plan.answer_calls} answer)",
        f"estimated time: at most ~{_duration(plan.calls * per_call / max(1, plan.parallel))} "
        f"at {per_call:.1f} s per call ({source}"
        + (f", {plan.parallel} in flight" if plan.parallel > 1 else "")
        + "); calls already in the call log are replayed free; a short run measures the model",
    ]
    if plan.prepared:
        lines.append(
            "plus question generation first: 1 call per context tried and 1 per generated question "
            "(cached per model after the first run)"
        )
    return "\n".join(lines)


__all__ = ["GUESS_EMBEDDED_S", "GUESS_REMOTE_S", "DryRun", "Plan", "describe_plan", "seconds_per_call"]
