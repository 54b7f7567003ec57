"""Options that several commands share, defined once so their names, limits and help agree."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Effort(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


ContextIdArg = Annotated[str, typer.Argument(help="Context id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]

# --- budgets and sampling (sleep, ask, chat)
EffortOpt = Annotated[Effort | None, typer.Option("--effort", help="Reasoning effort: low, medium or high.")]
MaxTokensOpt = Annotated[int | None, typer.Option(min=1, help="Most tokens per model call.")]
TruncateOpt = Annotated[bool, typer.Option(help="Cut a context too long for the model.")]
VerbosityOpt = Annotated[
    int | None, typer.Option("--verbosity", "-v", min=0, max=4, help="0 terse .. 4 step by step.")
]
BaselineOpt = Annotated[bool, typer.Option(help="Ignore the learned context (test-time-only baseline).")]
TemperatureOpt = Annotated[
    float | None, typer.Option(min=0.0, max=2.0, help="Sampling temperature (default 0: greedy).")
]
SystemOpt = Annotated[str | None, typer.Option(help="Extra instructions added to the model's system prompt.")]
