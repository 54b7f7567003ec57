from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sleeptime.bench.datasets import file_f1, load_dataset
from sleeptime.bench.datasets.swe_features import EXAMPLE_FILE, files_in_patch, load_swe_features


def test_bundled_example_loads_offline() -> None:
    [example] = load_dataset("swe-features")
    assert example.dataset == "swe-features"
    assert example.meta["gold_files"] == ["tests/test_export.py", "tinykv/cli.py", "tinykv/export.py"]
    assert example.meta["related_prs"] == [11, 14]
    assert "Add an `export` command" in example.question
    assert "## Related PR #14: Add a `keys` command" in example.context and "```diff" in example.context
    assert example.answer.splitlines() == example.meta["gold_files"]


def test_files_in_patch() -> None:
    task = json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))
    patches = [pr["patch"] for pr in task["related_prs"]]
    assert files_in_patch(patches[0]) == ["tinykv/store.py", "tests/test_store.py"]
    assert files_in_patch(patches[1]) == ["tinykv/store.py", "tinykv/cli.py"]
    assert files_in_patch("--- /dev/null\n+++ b/new.py\n") == ["new.py"]


@pytest.mark.parametrize(
    ("predicted", "gold", "score"),
    [
        (["a.py", "b.py", "c.py"], ["a.py", "b.py", "c.py"], 1.0),
        (["./a.py", "b.py"], ["a.py", "b.py", "c.py"], 0.8),
        (["a.py", "x.py"], ["a.py", "b.py"], 0.5),
        (["x.py"], ["a.py"], 0.0),
        ([], ["a.py"], 0.0),
        ([], [], 1.0),
        (["a.py", "a.py"], ["a.py"], 1.0),
    ],
)
def test_file_f1(predicted: list[str], gold: list[str], score: float) -> None:
    assert file_f1(predicted, gold) == pytest.approx(score)


PATHS = st.sets(st.sampled_from(["a.py", "b/c.py", "d.md", "e/f/g.py", "h.txt"]))


@given(PATHS, PATHS)
def test_file_f1_properties(predicted: set[str], gold: set[str]) -> None:
    score = file_f1(predicted, gold)
    assert 0.0 <= score <= 1.0
    assert score == file_f1(gold, predicted)
    assert (score == 1.0) == (predicted == gold)


def test_jsonl_with_aliases(tmp_path: Path) -> None:
    task = {
        "id": "t1",
        "repo": "o/r",
        "cluster_prs": [{"number": 1, "title": "T", "body": "B", "patch": "diff --git a/x.py b/x.py\n"}],
        "target": {"number": 2, "title": "Feature", "body": "Do it", "files": ["x.py", "y.py", "z.py"]},
    }
    path = tmp_path / "swe.jsonl"
    path.write_text(json.dumps(task) + "\n\n" + json.dumps({**task, "id": "t2"}) + "\n", encoding="utf-8")
    examples = load_dataset("swe-features", path=path)
    assert [e.id for e in examples] == ["t1", "t2"]
    assert examples[0].question == "Feature\n\nDo it" and examples[0].meta["gold_files"] == [
        "x.py",
        "y.py",
        "z.py",
    ]
    with pytest.raises(ValueError, match="no modified files"):
        load_swe_features_from(tmp_path, {**task, "target": {"title": "x"}})


def load_swe_features_from(tmp_path: Path, task: dict[str, object]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(task) + "\n", encoding="utf-8")
    load_swe_features(path)
