"""The sandbox runs model-written programs: answers for honest ones, refusal or death for hostile ones."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sleeptime.sandbox import Limits, extract_code, parse_number, run_program


def test_an_honest_program_gives_its_answer_and_named_values() -> None:
    result = run_program(
        "import math\neggs_per_day = 16\neaten = 3\nbaked = 4\nprice = 2\n"
        "answer = (eggs_per_day - eaten - baked) * price\nprint(answer)"
    )
    assert result.ok, result.error
    assert result.answer == 18
    assert result.values["eggs_per_day"] == 16 and result.values["price"] == 2
    assert result.output.strip() == "18"


def test_printed_result_counts_when_no_answer_variable() -> None:
    result = run_program("total = 3 * 4.5\nprint(f'The total is {total}')")
    assert result.ok and result.answer == 13.5


def test_math_and_fractions_are_available_without_real_imports() -> None:
    source = "import math\nfrom fractions import Fraction\nanswer = math.ceil(7 / 2) + Fraction(1, 2)"
    result = run_program(source)
    assert result.ok, result.error
    assert result.answer == 4.5


def test_inputs_are_predefined() -> None:
    result = run_program("answer = pages_left / days", inputs={"pages_left": 84, "days": 4})
    assert result.ok and result.answer == 21


@pytest.mark.parametrize(
    "program",
    [
        "import os\nos.system('touch /tmp/sleeptime-pwned')",
        "import subprocess\nsubprocess.run(['id'])",
        "from os import system\nsystem('id')",
        "__import__('os').system('id')",
        "import sys\nsys.exit(3)",
    ],
)
def test_imports_are_refused(program: str) -> None:
    result = run_program(program)
    assert not result.ok
    assert result.error
    assert not Path("/tmp/sleeptime-pwned").exists()


def test_dunder_access_is_refused() -> None:
    result = run_program("x = ().__class__.__bases__[0].__subclasses__()")
    assert not result.ok and "attr" in result.error.lower()


def test_open_is_not_defined(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    result = run_program(f"answer = open({str(secret)!r}).read()")
    assert not result.ok and "open" in result.error
    target = tmp_path / "written.txt"
    result = run_program(f"open({str(target)!r}, 'w').write('x')")
    assert not result.ok and not target.exists()


def test_huge_exponent_is_refused() -> None:
    result = run_program("answer = 10 ** 10 ** 10")
    assert not result.ok and "exponent" in result.error


def test_infinite_loop_is_killed() -> None:
    # The CPU limit kills it; on a loaded machine the wall-clock limit may come first.
    started = time.perf_counter()
    result = run_program("while True:\n    pass", limits=Limits(cpu_seconds=1, wall_seconds=30))
    assert not result.ok and ("CPU" in result.error or "longer than" in result.error)
    assert time.perf_counter() - started < 31


def test_wall_clock_limit_holds_when_cpu_is_not_used() -> None:
    # A child that never gets to run the program (here: a tiny wall limit) still ends.
    result = run_program("answer = 1", limits=Limits(wall_seconds=0.001))
    assert not result.ok and "longer than" in result.error


def test_memory_bomb_fails_inside_its_own_process() -> None:
    result = run_program("x = [0] * (10 ** 9)", limits=Limits(memory_mb=256))
    assert not result.ok and "memory" in result.error


def test_cpu_bomb_in_a_builtin_is_killed() -> None:
    result = run_program("answer = factorial(10 ** 7)", limits=Limits(cpu_seconds=1))
    assert not result.ok


def test_output_flood_is_cut() -> None:
    result = run_program("for i in range(10 ** 7):\n    print('flood')", limits=Limits(output_chars=1000))
    assert not result.ok
    assert len(result.output) <= 1000


def test_fork_is_impossible() -> None:
    result = run_program("import os\nos.fork()")
    assert not result.ok and "os" in result.error


def test_oversized_program_is_refused_before_running() -> None:
    result = run_program("x = 1\n" * 10_000, limits=Limits(program_chars=1000))
    assert not result.ok and "characters" in result.error


def test_extract_code_takes_the_fenced_block() -> None:
    reply = "Here it is:\n```python\nanswer = 2 + 2\n```\nThis adds two numbers."
    assert extract_code(reply) == "answer = 2 + 2"
    assert extract_code("```python\nanswer = 5\n") == "answer = 5"  # cut at max_tokens
    assert extract_code("answer = 7") == "answer = 7"


@pytest.mark.parametrize(
    ("text", "number"),
    [("1,234.50", 1234.5), ("$18", 18), ("40%", 40), ("7.", 7), ("abc", None), ("inf", None)],
)
def test_parse_number(text: str, number: float | None) -> None:
    assert parse_number(text) == number
