"""Where benchmark data is read from and derived files are written to.

This is the one place the dataset layer reads the environment: callers resolve
``default_data_dir()`` / ``default_cache_dir()`` once and pass the paths down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "SLEEPTIME_DATA_DIR"
CACHE_DIR_ENV = "SLEEPTIME_CACHE_DIR"

# src/sleeptime/bench/datasets/paths.py -> the repository root is five levels up.
_REPO_ROOT = Path(__file__).resolve().parents[4]


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$SLEEPTIME_DATA_DIR`` if set, else ``../shared/data`` next to the repository root."""
    env = os.environ if environ is None else environ
    configured = env.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return (_REPO_ROOT / ".." / "shared" / "data").resolve()


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where derived datasets are built (never the repository, because of
    GSM-Symbolic's no-derivatives licence): ``$SLEEPTIME_CACHE_DIR`` if set, else
    the user cache dir's ``sleeptime/datasets``."""
    env = os.environ if environ is None else environ
    configured = env.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("sleeptime")) / "datasets"
