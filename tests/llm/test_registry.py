"""Backends by spec prefix: the built-in ones, one registered in code, one from an entry point;
and ``max_concurrency`` / ``close`` on every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import sleeptime.llm as llm_pkg
from sleeptime.errors import ConfigurationError
from sleeptime.llm import LLM, backends, load_model, register_backend
from sleeptime.llm.base import SamplingParams
from sleeptime.llm.fake import ScriptedModel
from sleeptime.settings import load_settings


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry as at import, plugins not yet looked up; restored after the test."""
    monkeypatch.setattr(llm_pkg, "_registry", dict(llm_pkg._registry))
    monkeypatch.setattr(llm_pkg, "_plugins_loaded", False)


def test_the_built_in_prefixes() -> None:
    assert {"openai", "hf", "fake"} <= set(backends())
    model = load_model("fake:The answer is 7.", load_settings())
    assert isinstance(model, ScriptedModel) and model.name == "fake:The answer is 7."
    assert model.complete([{"role": "user", "content": "q?"}], SamplingParams()).text == "The answer is 7."


@pytest.mark.usefixtures("fresh_registry")
def test_a_backend_registered_in_code_gets_the_rest_of_the_spec() -> None:
    seen: list[str] = []

    def load(rest: str, settings: Any, progress: Any) -> LLM:
        seen.append(rest)
        return ScriptedModel(name=f"mine:{rest}")

    register_backend("mine", load)
    assert load_model("mine:big/model:v2", load_settings()).name == "mine:big/model:v2"
    assert seen == ["big/model:v2"]  # split at the first colon only
    with pytest.raises(ValueError, match="prefix"):
        register_backend("Not A Prefix", load)


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_registers_by_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    class EntryPoint:
        def __init__(self, name: str, obj: Any) -> None:
            self.name, self.value, self._obj = name, f"plugin:{name}", obj

        def load(self) -> Any:
            if isinstance(self._obj, Exception):
                raise self._obj
            return self._obj

    points = [
        EntryPoint("plug", lambda rest, settings, progress: ScriptedModel(default=rest, name="plug")),
        EntryPoint("broken", ImportError("no such module")),
        EntryPoint("openai", lambda *a: None),  # a built-in's prefix cannot be taken
    ]
    groups: list[str] = []

    def entry_points(*, group: str) -> list[EntryPoint]:
        groups.append(group)
        return points

    monkeypatch.setattr(llm_pkg, "entry_points", entry_points)
    model = load_model("plug:hello", load_settings())
    assert model.name == "plug" and groups == ["sleeptime.backends"]
    assert "broken" not in backends() and backends()["openai"] is llm_pkg._openai_model
    assert groups == ["sleeptime.backends"]  # looked up once


def test_an_unknown_spec_names_the_prefixes() -> None:
    with pytest.raises(ConfigurationError, match="unknown model") as info:
        load_model("nosuch:thing", load_settings())
    assert "openai:..." in info.value.hint and "fake:..." in info.value.hint


def test_max_concurrency_comes_from_the_backend_and_its_settings(smollm2_path: Path) -> None:
    settings = load_settings(openai_base_url="http://127.0.0.1:9/v1", openai_max_concurrency=5)
    remote = load_model("openai:some-model", settings)
    assert remote.max_concurrency == 5
    remote.close()
    local = load_model(str(smollm2_path), load_settings(n_ctx=512))
    assert local.max_concurrency == 1  # calls queue on the embedded model's lock anyway
    local.close()
    assert ScriptedModel().max_concurrency == 1 and ScriptedModel(max_concurrency=3).max_concurrency == 3
