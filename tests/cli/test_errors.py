"""Issue 12 item 5: every CLI error prints literally, names the CLI flag, has a hint and the
documented exit code (1 for an error, 2 for a bad option value)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from sleeptime.cli.app import EXIT_ERROR, EXIT_USAGE, cli_hint, print_error
from sleeptime.errors import (
    BackendTimeoutError,
    ConfigurationError,
    ContextTooLongError,
    InvalidInputError,
    MalformedOutputError,
    SleeptimeError,
)

from .conftest import Invoke

HINT = re.compile(r"^hint: (\S.*)$", re.MULTILINE)


def assert_one_error(err: str) -> str:
    """One `error:` line, a non-empty `hint:` line, no traceback; returns the hint."""
    assert err.count("error: ") == 1, err
    assert "Traceback" not in err
    found = HINT.search(err)
    assert found is not None, f"no hint in {err!r}"
    return found.group(1)


def test_square_brackets_print_literally(capsys: pytest.CaptureFixture[str]) -> None:
    print_error(ConfigurationError("bad [bold]value[/bold]", hint="pip install 'sleeptime[hf]'"))
    err = capsys.readouterr().err
    assert "bad [bold]value[/bold]" in err
    assert "pip install 'sleeptime[hf]'" in err


def test_hf_hint_keeps_its_extra_end_to_end(cli: Invoke) -> None:
    if importlib.util.find_spec("huggingface_hub") is not None:  # pragma: no cover - would go online
        pytest.skip("huggingface_hub is installed")
    _, err = cli("--model", "hf:o/r/f.gguf", "context", "add", "text", code=EXIT_ERROR, base_args=False)
    assert "pip install 'sleeptime[hf]'" in assert_one_error(err)


def test_too_long_context_names_the_truncate_flag(cli: Invoke, tmp_path: Path) -> None:
    long_text = tmp_path / "long.txt"
    long_text.write_text("word " * 9000, encoding="utf-8")  # the scripted model: 8192 tokens, one per word
    _, err = cli("context", "add", "--file", str(long_text), code=EXIT_ERROR)
    hint = assert_one_error(err)
    assert "--truncate" in hint and "truncate=True" not in err
    assert ContextTooLongError.default_hint not in err
    out, _ = cli("context", "add", "--file", str(long_text), "--truncate")
    assert out.strip()


@pytest.mark.parametrize("command", [["sleep"], ["ask", "QUESTION"], ["chat"]])
def test_bad_effort_exits_2(cli: Invoke, context_id: str, command: list[str]) -> None:
    args = [command[0], context_id, *command[1:], "--effort", "extreme"]
    _, err = cli(*args, code=EXIT_USAGE)
    assert "extreme" in err and "--effort" in err


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["context", "add", "x", "--file", "nofile.txt"], "--file"),
        (["context", "add", "some text", "--meta", "novalue"], "--meta"),
        (["models", "pull", "gpt-17"], "sleeptime models list"),
        (["ask", "no-such-id", "What?"], "sleeptime context list"),
        (["context", "add", "   "], "hint: give the text"),
    ],
)
def test_errors_name_the_flag_and_have_a_hint(cli: Invoke, args: list[str], flag: str) -> None:
    _, err = cli(*args, code=EXIT_ERROR)
    hint = assert_one_error(err)
    assert flag in err, f"{flag!r} not named in {err!r} (hint {hint!r})"


def test_an_error_without_a_hint_points_at_the_commands_help(capsys: pytest.CaptureFixture[str]) -> None:
    print_error(InvalidInputError("something is off"), "sleeptime context add")
    assert "hint: see `sleeptime context add --help`" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "flag"),
    [
        (MalformedOutputError("unusable"), "--max-tokens"),
        (BackendTimeoutError("slow"), "--max-tokens"),
        (ContextTooLongError("long"), "--truncate"),
    ],
)
def test_python_wording_becomes_cli_flags(error: SleeptimeError, flag: str) -> None:
    assert flag in cli_hint(error, "sleeptime ask")
    assert "=True" not in cli_hint(error, "sleeptime ask")


def test_bad_settings_from_the_environment(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEEPTIME_N_THREADS", "0")
    _, err = cli("context", "list", code=EXIT_ERROR)
    assert "n_threads" in err
    assert "sleeptime config show" in assert_one_error(err)


def test_bad_option_values_exit_2(cli: Invoke) -> None:
    _, err = cli("ask", "x", "q", "--verbosity", "9", code=EXIT_USAGE)
    assert "--verbosity" in err
    _, err = cli("ask", "x", "q", "--temperature", "5", code=EXIT_USAGE)
    assert "--temperature" in err
