"""Issue 12 item 3: no silent waits. Without a terminal (a log), each wait is a plain line."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from sleeptime.cli import waiting

from .conftest import Invoke


def test_a_sleep_reports_each_model_call(cli: Invoke, context_id: str) -> None:
    _, err = cli("sleep", context_id, "--rounds", "2")
    assert "loading model scripted ..." in err
    assert f"sleeping on {context_id} ..." in err
    assert f"sleeping on {context_id}: 1 model call done" in err


def test_every_model_command_says_it_is_loading(cli: Invoke, context_id: str) -> None:
    for args in (["ask", context_id, "How many cats?"], ["chat", context_id]):
        _, err = cli(*args, stdin="")
        assert "loading model scripted ..." in err
    _, err = cli("ask", context_id, "How many cats?", "--no-stream")
    assert "thinking ..." in err


def test_on_a_terminal_a_spinner_shows_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(waiting, "err_console", Console(file=screen, force_terminal=True, width=80))
    with waiting.CallCounter("sleeping on abc") as counter:
        counter(1)
        counter(2)
        assert counter._status is not None
    assert counter.calls == 3
    assert "sleeping on abc" in screen.getvalue()
