"""`sleeptime data`: what each dataset reads, where it is found, fetching, and errors that say the fix."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pytest

from sleeptime.bench.datasets import DATASETS, load_dataset
from sleeptime.bench.datasets.sources import NEEDS, SOURCES, HubFile, check_dataset, fetch, hub_download
from sleeptime.cli import run
from sleeptime.cli.data import inventory
from sleeptime.errors import ConfigurationError, InvalidInputError


def test_every_dataset_says_what_it_reads_and_the_shared_data_has_it(data_dir: Path) -> None:
    assert set(NEEDS) == set(DATASETS)
    assert all(source in SOURCES for needed in NEEDS.values() for source in needed)
    info = inventory(data_dir)
    assert info["exists"] and all(d["ready"] for d in info["datasets"].values())
    assert all(s["licence"] and s["origin"].startswith("https://") for s in info["sources"].values())
    for name in SOURCES:  # the facts come from the data's own SOURCE.md
        source_md = (data_dir / name / "SOURCE.md").read_text(encoding="utf-8")
        assert SOURCES[name].licence.split()[0] in source_md
        assert SOURCES[name].origin.split()[0].removeprefix("https://") in source_md


def test_an_empty_data_dir_lists_what_is_missing_and_how_to_get_it(tmp_path: Path) -> None:
    info = inventory(tmp_path)
    assert not any(d["ready"] for name, d in info["datasets"].items() if name != "swe-features")
    assert info["datasets"]["swe-features"]["ready"]
    gsm8k = info["sources"]["gsm8k"]
    assert gsm8k["missing"] == ["gsm8k/test.jsonl"] and gsm8k["fetch"] == "sleeptime data fetch gsm8k"
    assert (
        info["sources"]["aime-2024"]["fetch"] is None
        and "matharena" in info["sources"]["aime-2024"]["fetch_note"]
    )


def test_errors_name_the_flag_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as unknown:
        check_dataset("no-such-set", None)
    assert "--dataset" in (unknown.value.hint or "")
    with pytest.raises(ConfigurationError) as absent:
        load_dataset("stateful-gsm8k", data_dir=tmp_path / "nowhere")
    assert "does not exist" in absent.value.message
    hint = absent.value.hint or ""
    assert "--data-dir" in hint and "SLEEPTIME_DATA_DIR" in hint and "`sleeptime data fetch gsm8k`" in hint
    (tmp_path / "gsm-symbolic").mkdir()
    with pytest.raises(ConfigurationError) as lacking:
        check_dataset("stateful-gsm-symbolic-p2", tmp_path)
    assert "gsm-symbolic/generated_data/GSM_p2.jsonl" in lacking.value.message
    assert "`sleeptime data fetch gsm-symbolic`" in (lacking.value.hint or "")
    check_dataset("swe-features", tmp_path / "nowhere")  # bundled: needs no data dir
    with pytest.raises(InvalidInputError) as no_tasks:
        check_dataset("swe-features", None, {"path": tmp_path / "tasks.jsonl"})
    assert "--tasks" in (no_tasks.value.hint or "")
    check_dataset("hub:owner/set", None)


def test_fetch_writes_each_file_whole_into_the_source_folder(tmp_path: Path) -> None:
    upstream = tmp_path / "hub-cache"
    upstream.mkdir()
    asked: list[HubFile] = []

    def download(file: HubFile) -> Path:
        asked.append(file)
        path = upstream / file.filename.replace("/", "_")
        path.write_text(json.dumps({"id": 0, "instance": 0, "file": file.filename}) + "\n", encoding="utf-8")
        return path

    written = fetch("gsm-symbolic", tmp_path / "data", download=download)
    assert [f.repo for f in asked] == ["apple/GSM-Symbolic"] * 3
    p2 = tmp_path / "data" / "gsm-symbolic" / "generated_data" / "GSM_p2.jsonl"
    assert p2 in written and json.loads(p2.read_text(encoding="utf-8"))["file"] == "p2/test.jsonl"
    assert sorted(p.name for p in p2.parent.iterdir()) == [
        "GSM_p1.jsonl",
        "GSM_p2.jsonl",
        "GSM_symbolic.jsonl",
    ]

    def broken(file: HubFile) -> Path:
        raise ConfigurationError("offline")

    with pytest.raises(ConfigurationError, match="offline"):
        fetch("gsm8k", tmp_path / "data", download=broken)
    assert not (tmp_path / "data" / "gsm8k").exists()  # nothing half-written
    with pytest.raises(ConfigurationError) as no_hub:
        fetch("aime-2025", tmp_path / "data", download=download)
    assert "matharena" in (no_hub.value.hint or "").lower()
    with pytest.raises(InvalidInputError):
        fetch("nonsense", tmp_path, download=download)


def test_fetch_without_huggingface_hub_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_hub(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "huggingface_hub":
            raise ImportError("no huggingface_hub")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hub)
    with pytest.raises(ConfigurationError) as missing:
        hub_download(SOURCES["gsm8k"].hub[0])
    assert "sleeptime[hf]" in (missing.value.hint or "")


def test_fetch_offline_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class OfflineHub:
        @staticmethod
        def hf_hub_download(*args: Any, **kwargs: Any) -> str:
            raise OSError("Temporary failure in name resolution")

    monkeypatch.setitem(__import__("sys").modules, "huggingface_hub", OfflineHub)
    with pytest.raises(ConfigurationError) as offline:
        hub_download(SOURCES["gsm-symbolic"].hub[0])
    assert "apple/GSM-Symbolic" in offline.value.message and "name resolution" in offline.value.message
    assert "network" in (offline.value.hint or "")


def test_cli_data_lists_as_json_and_fetch_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["data", "--json", "--data-dir", str(tmp_path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["data_dir"] == str(tmp_path) and not info["datasets"]["stateful-gsm8k"]["ready"]
    assert run(["data", "list", "--data-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert "stateful-gsm8k" in listed and "sleeptime data fetch gsm8k" in listed
    assert run(["data", "fetch", "aime-2024", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "cannot be fetched" in err and "Traceback" not in err


def test_a_bench_run_without_data_names_the_fix_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    args = ["bench", "pareto", "--data-dir", str(tmp_path / "nowhere"), "--out", str(out)]
    assert run(args) == 1
    err = capsys.readouterr().err
    assert "--data-dir" in err and "sleeptime data" in err and "Traceback" not in err
    assert not out.exists()
