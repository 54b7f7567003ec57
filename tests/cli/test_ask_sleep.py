"""`sleeptime ask` (stdin, --system, --n/--temperature, streaming) and `sleeptime sleep` (reuse)."""

from __future__ import annotations

import json

import pytest

from sleeptime.cli import answering
from sleeptime.llm.fake import ScriptedModel

from .conftest import Invoke


def test_the_question_can_come_from_stdin(cli: Invoke, context_id: str, scripted: ScriptedModel) -> None:
    out, _ = cli("ask", context_id, "-", stdin="How many cans a day?\n")
    assert "The answer is 6." in out
    assert "How many cans a day?" in scripted.calls[-1][0][-1]["content"]
    out, _ = cli("ask", context_id, stdin="How many cats?\n")  # piped, no argument
    assert "How many cats?" in scripted.calls[-1][0][-1]["content"]


def test_no_question_at_a_terminal_is_an_error(
    cli: Invoke, context_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answering.sys.stdin, "isatty", lambda: True, raising=False)
    _, err = cli("ask", context_id, code=1)
    assert "no question given" in err and "'-'" in err


def test_system_text_reaches_the_model(cli: Invoke, context_id: str, scripted: ScriptedModel) -> None:
    cli("ask", context_id, "How many cats?", "--system", "Answer in French.")
    messages = scripted.calls[-1][0]
    assert messages[0]["role"] == "system" and messages[0]["content"].endswith("Answer in French.")
    cli("ask", context_id, "How many cats?")
    assert "French" not in scripted.calls[-1][0][0]["content"]


def test_n_samples_with_temperature(cli: Invoke, context_id: str, scripted: ScriptedModel) -> None:
    data = json.loads(cli("ask", context_id, "How many cans?", "--n", "3", "--json")[0])
    assert len(data["answers"]) == 3
    assert scripted.calls[-1][1].temperature > 0 and data["budget"]["temperature"] > 0
    cli("ask", context_id, "How many cans?", "--n", "3", "--temperature", "0")
    assert scripted.calls[-1][1].temperature == 0.0
    cli("ask", context_id, "How many cans?", "--temperature", "1.2")
    assert scripted.calls[-1][1].temperature == 1.2
    out, _ = cli("ask", context_id, "How many cans?", "--n", "2", "--no-stream")
    assert "[1] " in out and "[2] " in out


def test_ask_streams_and_no_stream_waits(
    cli: Invoke, context_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_out = answering.console.out

    def out(*objects: object, **kwargs: object) -> None:
        seen.append(str(objects[0]) if objects else "")
        real_out(*objects, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(answering.console, "out", out)
    printed, err = cli("ask", context_id, "How many cans?")
    assert len([p for p in seen if p]) > 1, seen  # piece by piece
    assert "".join(seen).strip() == "Each cat eats 2 cans, so 3 x 2 = 6. The answer is 6."
    assert "from the raw context" in err and "from the raw context" not in printed
    seen.clear()
    printed, _ = cli("ask", context_id, "How many cans?", "--no-stream")
    assert seen == [] and "The answer is 6." in printed


def test_a_reused_sleep_says_so_and_force_is_reused_next(cli: Invoke, context_id: str) -> None:
    first = json.loads(cli("sleep", context_id, "--rounds", "1", "--json")[0])
    assert first["reused"] is False
    _, err = cli("sleep", context_id, "--rounds", "1")
    assert "reused" in err and "0 model calls now" in err and f"{first['usage']['calls']} calls" in err
    again = json.loads(cli("sleep", context_id, "--rounds", "1", "--json")[0])
    assert again["reused"] is True and again["id"] == first["id"]
    forced = json.loads(cli("sleep", context_id, "--rounds", "1", "--force", "--json")[0])
    assert forced["reused"] is False and forced["id"] != first["id"]
    after = json.loads(cli("sleep", context_id, "--rounds", "1", "--json")[0])
    assert after["reused"] is True and after["id"] == forced["id"]
    other = json.loads(cli("sleep", context_id, "--rounds", "2", "--json")[0])
    assert other["reused"] is False
