"""The CLI on the real small model and a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from sleeptime.cli import app, run

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(smollm2_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    base = ["--model", str(smollm2_path), "--db", f"sqlite:///{tmp_path / 'cli.db'}"]

    def invoke(*args: str, code: int = 0) -> str:
        capsys.readouterr()
        result = run([*base, *args])
        out, err = capsys.readouterr()
        assert result == code, f"exit {result}, stdout={out!r}, stderr={err!r}"
        return out if code == 0 else err

    return invoke


def test_context_lifecycle(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context_id = cli("context", "add", "Ann has 3 cats and 2 dogs.", "--meta", "topic=pets").strip()
    assert len(context_id) >= 8
    listing = json.loads(cli("context", "list", "--json"))
    assert [c["id"] for c in listing] == [context_id]
    shown = json.loads(cli("context", "show", context_id, "--json"))
    assert shown["text"] == "Ann has 3 cats and 2 dogs." and shown["metadata"] == {"topic": "pets"}

    learned = json.loads(cli("sleep", context_id, "--rounds", "1", "--max-tokens", "48", "--json"))
    assert learned["context_version"] == 1 and learned["text"].strip()

    answer = json.loads(cli("ask", context_id, "How many pets?", "--max-tokens", "24", "--json"))
    assert answer["source"] == "learned" and answer["learned_context_id"] == learned["id"]
    assert answer["usage"]["completion_tokens"] > 0
    baseline = json.loads(
        cli("ask", context_id, "How many pets?", "--baseline", "-v", "4", "--max-tokens", "24", "--json")
    )
    assert baseline["source"] == "raw" and baseline["budget"]["verbosity"] == 4

    file = tmp_path / "new.txt"
    file.write_text("Ann has 4 cats.", encoding="utf-8")
    assert "version 2" in cli("context", "update", context_id, "--file", str(file))
    assert "version 3" in cli("context", "update", context_id, "She adopts a parrot.", "--append")
    shown = json.loads(cli("context", "show", context_id, "--json"))
    assert shown["version"] == 3 and shown["text"] == "Ann has 4 cats.\nShe adopts a parrot."
    assert "deleted" in cli("context", "rm", context_id)
    assert json.loads(cli("context", "list", "--json")) == []


def test_errors_are_one_clear_line(cli) -> None:  # type: ignore[no-untyped-def]
    err = cli("ask", "no-such-id", "What?", code=1)
    assert "error:" in err and "no-such-id" in err and "Traceback" not in err
    err = cli("context", "add", "   ", code=1)
    assert "empty" in err
    err = cli("context", "add", "x" * 10, "--meta", "novalue", code=1)
    assert "KEY=VALUE" in err
    err = cli("models", "pull", "gpt-17", code=1)
    assert "unknown catalog model" in err


def test_bad_option_values_are_refused_by_the_parser(cli) -> None:  # type: ignore[no-untyped-def]
    err = cli("ask", "x", "q", "--verbosity", "9", code=2)
    assert "verbosity" in err.lower()


def test_models_lists_the_catalog(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("models")
    assert "qwen2.5-coder-1.5b" in out and "smollm2-135m" in out


def test_unknown_model_and_bad_store_urls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["--model", "no-such-model", "--db", f"sqlite:///{tmp_path / 'x.db'}", "context", "add", "text"])
        == 1
    )
    assert "unknown model" in capsys.readouterr().err
    assert run(["--db", "mysql://nobody@localhost/x", "context", "list"]) == 1
    assert "error:" in capsys.readouterr().err


def test_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    """The installed console script, in a real process."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sleeptime",
            "--db",
            f"sqlite:///{tmp_path / 'e.db'}",
            "context",
            "show",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "nope" in result.stderr


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    # Typer may bundle its own copy of click, so groups are recognised by shape, not class.
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if hasattr(command, "commands"):
            found.extend(_commands(command, full + " "))
    return found


def test_every_command_has_help_and_is_documented() -> None:
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    docs = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = _commands(root)
    assert len(commands) >= 10
    for name, command in commands:
        assert (command.help or "").strip(), f"`sleeptime {name}` has no help text"
        assert f"sleeptime {name}" in docs, f"`sleeptime {name}` is missing from docs/cli.md"
