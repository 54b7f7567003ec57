"""Fixtures for the benchmark-data tests: the real data dir and one shared cache dir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sleeptime.bench.datasets import default_data_dir
from sleeptime.bench.datasets.templates import Template, load_templates
from sleeptime.bench.datasets.vocab import load_vocabulary

# Read before the root conftest clears SLEEPTIME_* variables for each test.
DATA_DIR = default_data_dir()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(f"benchmark data not found at {DATA_DIR}; set SLEEPTIME_DATA_DIR")
    return DATA_DIR


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir per session, so regenerated P1 is built once."""
    return tmp_path_factory.mktemp("dataset-cache")


@pytest.fixture(scope="session")
def lists(data_dir: Path) -> dict[str, list[Any]]:
    return load_vocabulary(data_dir)


@pytest.fixture(scope="session")
def templates(data_dir: Path) -> dict[str, Template]:
    return {t.key: t for variant in ("symbolic", "p1", "p2") for t in load_templates(data_dir, variant)}


@pytest.fixture(scope="session")
def p2_rows(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "gsm-symbolic" / "generated_data" / "GSM_p2.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
