"""CLI tests on the scripted model: ``--model scripted`` loads the fixture's ScriptedModel.

The real-model path of the CLI is covered by tests/test_cli.py and tests/test_docs.py.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import sleeptime.engine
import sleeptime.llm
from sleeptime.cli import run
from sleeptime.llm.base import Completion, Message, SamplingParams
from sleeptime.llm.fake import ScriptedModel
from sleeptime.settings import Settings

Invoke = Callable[..., tuple[str, str]]


class Scripted(ScriptedModel):
    """A ScriptedModel that also plays the sleep strategies' JSON and program steps."""

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        content = messages[-1]["content"]
        if "JSON object" in content:
            self.extend(['{"questions": ["How many cans of food do the cats eat each day?"]}'] * params.n)
        elif "Python program" in content:
            self.extend(["```python\nanswer = 3 * 2\n```"] * params.n)
        return super().complete(messages, params)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    model = Scripted(default="Each cat eats 2 cans, so 3 x 2 = 6. The answer is 6.")
    loads: list[str] = []
    real = sleeptime.llm.load_model

    def load(spec: str, settings: Settings, **kwargs: Any) -> Any:
        if spec == "scripted":
            loads.append(spec)
            return model
        return real(spec, settings, **kwargs)

    monkeypatch.setattr(sleeptime.engine, "load_model", load)
    monkeypatch.setattr(sleeptime.llm, "load_model", load)
    model.loads = loads  # type: ignore[attr-defined]
    return model


@pytest.fixture
def cli(
    scripted: ScriptedModel,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Invoke:
    """``cli(*args, code=0, stdin=None) -> (stdout, stderr)``: the scripted model, a fresh SQLite file."""
    base = ["--model", "scripted", "--db", f"sqlite:///{tmp_path / 'cli.db'}"]

    def invoke(
        *args: str, code: int = 0, stdin: str | None = None, base_args: bool = True
    ) -> tuple[str, str]:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        result = run([*(base if base_args else []), *args])
        out, err = capsys.readouterr()
        assert result == code, f"exit {result}, stdout={out!r}, stderr={err!r}"
        return out, err

    return invoke


@pytest.fixture
def context_id(cli: Invoke) -> str:
    out, _ = cli("context", "add", "Ann has 3 cats and 2 dogs. Each cat eats 2 cans of food a day.")
    return out.strip()
