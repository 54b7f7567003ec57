"""Progress: plain lines when the output is not a terminal, bars on one, nothing when disabled."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console

from sleeptime.progress import Tracker


def _console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=100), buffer


def test_a_log_gets_a_plain_line_per_tenth() -> None:
    console, buffer = _console(terminal=False)
    with Tracker(console, every_s=3600) as tracker:
        answers = tracker.add_task("answers", total=20)
        tracker.advance(None)  # a task that was not added: ignored
        for _ in range(20):
            tracker.advance(answers)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "answers: 0/20"
    assert len(lines) == 11 and lines[-1].startswith("answers: 20/20 (100%), ")
    assert "about" in lines[1] and "left" in lines[1] and "\x1b" not in buffer.getvalue()


def test_a_slow_task_is_reported_every_few_seconds() -> None:
    console, buffer = _console(terminal=False)
    tracker = Tracker(console, every_s=0.0)
    task = tracker.add_task("sleep calls", total=1000)
    for _ in range(3):
        tracker.advance(task)
    assert buffer.getvalue().splitlines()[1:] == [
        line for line in buffer.getvalue().splitlines()[1:] if line.startswith("sleep calls: ")
    ]
    assert len(buffer.getvalue().splitlines()) == 4


def test_counts_from_threads_add_up() -> None:
    console, buffer = _console(terminal=False)
    tracker = Tracker(console, every_s=3600)
    task = tracker.add_task("answers", total=400)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: tracker.advance(task), range(400)))
    assert buffer.getvalue().splitlines()[-1].startswith("answers: 400/400 (100%)")


def test_disabled_prints_nothing_and_a_terminal_gets_bars() -> None:
    console, buffer = _console(terminal=False)
    with Tracker(console, enabled=False) as tracker:
        tracker.advance(tracker.add_task("answers", total=3))
    assert buffer.getvalue() == ""
    console, buffer = _console(terminal=True)
    with Tracker(console) as tracker:
        assert not tracker.plain
        tracker.advance(tracker.add_task("answers", total=3), 3)
    assert "3/3" in buffer.getvalue()
