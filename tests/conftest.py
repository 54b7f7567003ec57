"""Shared fixtures: an isolated home and environment for every test, and the real models.

Model files are assembled once per machine into ``SLEEPTIME_TEST_MODELS_DIR``
(default: the models dir of the user's sleeptime home) by the same code users run (``sleeptime.llm.catalog``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sleeptime import Budget, Engine
from sleeptime.llm.catalog import CATALOG, ensure_model_file
from sleeptime.llm.llamacpp import LlamaCppModel
from sleeptime.settings import load_settings


def _models_dir() -> Path:
    configured = os.environ.get("SLEEPTIME_TEST_MODELS_DIR")
    # Where `sleeptime models pull` puts them (scripts/install.sh runs it), so nothing is assembled twice.
    return Path(configured) if configured else load_settings().model_cache_dir


MODELS_DIR = _models_dir()  # read before any test isolates the environment


def models_dir() -> Path:
    return MODELS_DIR


# llama.cpp's threads collapse when another model process shares the cores; let a busy
# machine run the suite single-threaded.
TEST_THREADS = int(os.environ.get("SLEEPTIME_TEST_N_THREADS", "0")) or None


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the developer's sleeptime home, config or SLEEPTIME_* settings."""
    for name in list(os.environ):
        if name.startswith("SLEEPTIME_") and not name.startswith("SLEEPTIME_TEST_"):
            monkeypatch.delenv(name)
    home = tmp_path / "sleeptime-home"
    monkeypatch.setenv("SLEEPTIME_HOME", str(home))
    monkeypatch.setenv("SLEEPTIME_MODELS_DIR", str(models_dir()))
    return home


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    return ensure_model_file(CATALOG["smollm2-135m"], models_dir())


@pytest.fixture(scope="session")
def qwen_path() -> Path:
    return ensure_model_file(CATALOG["qwen2.5-coder-1.5b"], models_dir())


@pytest.fixture(scope="session")
def smollm2(smollm2_path: Path) -> Iterator[LlamaCppModel]:
    """The small real model, loaded once per session."""
    model = LlamaCppModel(smollm2_path, name="smollm2-135m", n_ctx=4096, n_threads=TEST_THREADS)
    yield model
    model.close()


@pytest.fixture(scope="session")
def qwen(qwen_path: Path) -> Iterator[LlamaCppModel]:
    model = LlamaCppModel(qwen_path, name="qwen2.5-coder-1.5b", n_ctx=4096, n_threads=TEST_THREADS)
    yield model
    model.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(smollm2: LlamaCppModel, sqlite_url: str) -> Iterator[Engine]:
    """An engine on the real small model and a real SQLite file, with a small sleep budget."""
    eng = Engine(
        model=smollm2,
        store=sqlite_url,
        sleep_budget=Budget(rounds=2, k=1, max_tokens=96, temperature=0.0, seed=0),
    )
    yield eng
    eng.store.close()  # the session model outlives this engine
