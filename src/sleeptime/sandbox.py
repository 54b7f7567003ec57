"""Run a model-written program where it can do no harm.

Sleep time lets the model compute with programs (small models compute far better
in code than in prose arithmetic), but a context is user data on a multi-tenant
server, so a program is hostile until proven otherwise. Two layers:

1. asteval (a maintained restricted evaluator): no imports but ``math``-like
   ones, whose names are provided; no ``open``; no dunder attributes; bounded
   exponents, shifts and string sizes.
2. A separate, short-lived child process (``_sandbox_child.py``, run with
   ``python -I``) that lowers its own CPU-time, address-space, file-size and
   core limits before it reads the program, with a wall-clock time-out and an
   output cap enforced by the parent.

Nothing else in sleeptime evaluates model output: ``run_program`` is the only way in.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

_CHILD = Path(__file__).with_name("_sandbox_child.py")

Value = int | float | str | bool


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 2
    wall_seconds: float = 20.0  # generous: a loaded machine starts the child slowly
    memory_mb: int = 512
    output_chars: int = 20_000
    program_chars: int = 20_000


@dataclass(frozen=True)
class ProgramResult:
    """What a program left behind: its top-level plain values and what it printed."""

    ok: bool
    values: dict[str, Value] = field(default_factory=dict)
    output: str = ""
    error: str = ""

    @property
    def answer(self) -> Value | None:
        """``answer`` if the program set it, else the last number it printed."""
        if "answer" in self.values:
            return self.values["answer"]
        for line in reversed(self.output.strip().splitlines()):
            number = parse_number(line.split()[-1] if line.split() else "")
            if number is not None:
                return number
        return None


DEFAULT_LIMITS = Limits()


def run_program(
    source: str, *, inputs: dict[str, Value] | None = None, limits: Limits = DEFAULT_LIMITS
) -> ProgramResult:
    """Evaluate ``source`` in the sandbox with ``inputs`` predefined; the program's faults come back
    as ``ProgramResult.error``, never as an exception."""
    if len(source) > limits.program_chars:
        too_long = f"program has {len(source):,} characters (limit {limits.program_chars:,})"
        return ProgramResult(False, error=too_long)
    request = {
        "source": source,
        "inputs": inputs or {},
        "cpu_seconds": limits.cpu_seconds,
        "memory_bytes": limits.memory_mb * 1024 * 1024,
        "output_chars": limits.output_chars,
    }
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    try:
        proc = subprocess.run(
            [sys.executable, "-I", str(_CHILD)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=limits.wall_seconds,
            env=env,
            cwd="/",
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ProgramResult(False, error=f"the program ran longer than {limits.wall_seconds:g} s")
    if proc.returncode != 0:
        if proc.returncode in (-9, -24, 152, 137):  # SIGKILL / SIGXCPU
            cpu = f"the program used more than {limits.cpu_seconds} s of CPU time"
            return ProgramResult(False, error=cpu)
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
        if "MemoryError" in proc.stderr:
            tail = "the program ran out of memory"
        return ProgramResult(False, error=f"the sandbox process failed ({proc.returncode}): {tail}")
    try:
        reply = json.loads(proc.stdout[: limits.output_chars * 2 + 100_000])
    except ValueError:
        return ProgramResult(False, error="the sandbox reply was not JSON")
    raw = dict(reply.get("values") or {})
    values = {str(k): v for k, v in raw.items() if isinstance(v, (int, float, str, bool))}
    return ProgramResult(
        ok=bool(reply.get("ok")),
        values=values,
        output=str(reply.get("output", "")),
        error=str(reply.get("error", "")),
    )


def parse_number(text: str) -> float | int | None:
    """``"1,234.50"`` -> 1234.5, ``"$18"`` -> 18, ``"40%"`` -> 40; None when it is no number."""
    cleaned = text.strip().strip(".,;:!?").replace(",", "").lstrip("$€£¥").rstrip("%")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def extract_code(text: str) -> str:
    """The program in a model's reply: the longest fenced block, else the whole reply."""
    blocks: list[str] = []
    current: list[str] = []
    inside = False
    lines = text.splitlines()
    for line in lines:
        if line.strip().startswith("```"):
            if inside:
                blocks.append("\n".join(current))
                current = []
            inside = not inside
            continue
        if inside:
            current.append(line)
    if inside and current:  # an unclosed fence (cut by max_tokens): keep what came
        blocks.append("\n".join(current))
    if blocks:
        return max(blocks, key=len).strip()
    return text.strip()


__all__ = ["DEFAULT_LIMITS", "Limits", "ProgramResult", "extract_code", "parse_number", "run_program"]
