from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import pytest

from sleeptime.bench.datasets import (
    DATASETS,
    DESCRIPTIONS,
    Example,
    default_cache_dir,
    default_data_dir,
    load_dataset,
    subset,
)
from sleeptime.bench.datasets.aime import load_qwen_aime2024
from sleeptime.bench.datasets.functions import common_functions, numbers_equal
from sleeptime.bench.datasets.gsm_symbolic import generate_rows, p1_cache_path
from sleeptime.bench.datasets.hub import rows_to_examples
from sleeptime.bench.datasets.records import QA, aime_gold, gsm_gold
from sleeptime.bench.datasets.recovery import recover_variables
from sleeptime.bench.datasets.templates import Template, conditions_hold, instantiate_with, load_templates
from sleeptime.bench.grading import parse_number
from sleeptime.errors import ConfigurationError, InvalidInputError

REPO = Path(__file__).resolve().parents[2]


def test_registry_names_and_descriptions() -> None:
    assert set(DATASETS) == {
        "stateful-gsm-symbolic-p2",
        "stateful-gsm-symbolic-p1",
        "stateful-gsm8k",
        "stateful-aime-2024",
        "stateful-aime-2025",
        "stateful-aime",
        "multi-query-gsm-symbolic-p2",
        "multi-query-gsm-symbolic-p1",
        "swe-features",
    }
    assert all(DESCRIPTIONS[name] for name in DATASETS)


def _check(examples: list[Example], dataset: str, count: int, *, rearranged: bool = False) -> None:
    assert len(examples) == count
    assert len({e.id for e in examples}) == count
    assert all(e.dataset == dataset for e in examples)
    for e in examples:
        assert e.question and e.full_problem
        joined, full = re.sub(r"\s+", "", e.context + e.question), re.sub(r"\s+", "", e.full_problem)
        # AIME moves statements after the question into the context: same text, other order.
        assert (sorted(joined) == sorted(full)) if rearranged else (joined == full), e.id


def test_p2(data_dir: Path) -> None:
    examples = load_dataset("stateful-gsm-symbolic-p2", data_dir=data_dir)
    _check(examples, "stateful-gsm-symbolic-p2", 2500)
    by_id = {e.id: e for e in examples}
    e = by_id["p2-0007-13"]
    assert e.meta["template"] == "p2/0007" and e.meta["instance"] == 13
    assert e.answer == gsm_gold(e.meta["solution"])
    assert all(parse_number(x.answer) is not None and "," not in x.answer for x in examples)
    assert by_id["p2-0000-00"].answer == "32.5"


def test_gsm8k(data_dir: Path) -> None:
    examples = load_dataset("stateful-gsm8k", data_dir=data_dir)
    _check(examples, "stateful-gsm8k", 1319)
    assert examples[0].id == "gsm8k-0000" and examples[0].answer == "18"
    assert examples[0].question == "How much in dollars does she make every day at the farmers' market?"
    assert all("$" not in e.answer and "," not in e.answer for e in examples)
    assert any(
        e.meta["solution"].rsplit("####", 1)[1].strip() != e.answer for e in examples
    )  # commas stripped


def test_aime(data_dir: Path) -> None:
    both = load_dataset("stateful-aime", data_dir=data_dir)
    _check(both, "stateful-aime", 60, rearranged=True)
    for year in (2024, 2025):
        _check(
            load_dataset(f"stateful-aime-{year}", data_dir=data_dir),
            f"stateful-aime-{year}",
            30,
            rearranged=True,
        )
    by_id = {e.id: e for e in both}
    assert by_id["aime-2024-I-02"].answer == "25"  # "025" in the file
    assert by_id["aime-2025-I-01"].answer == "70" and by_id["aime-2025-I-01"].context == ""
    assert all(re.fullmatch(r"[1-9]\d{0,2}|0", e.answer) for e in both)
    # The Qwen2.5-Math copy of AIME 2024 agrees on every answer and (up to spacing) most statements.
    qwen = load_qwen_aime2024(data_dir)
    assert len(qwen) == 30
    assert all(qwen[key][1] == by_id[key].answer for key in qwen)
    # The url names the same problem: the closest MathArena text is the matching one
    # (except where the Qwen copy rewords the statement, as for I-5).
    flat = {k: re.sub(r"\s+", "", by_id[k].full_problem) for k in qwen}
    closest = 0
    for key, (problem, _) in qwen.items():
        ratios = {
            k: difflib.SequenceMatcher(None, re.sub(r"\s+", "", problem), text).ratio()
            for k, text in flat.items()
        }
        closest += max(ratios, key=lambda k: ratios[k]) == key
    assert closest >= 28
    stripped = load_dataset("stateful-aime-2024", data_dir=data_dir, strip_figures=True)
    assert not any("<asy>" in e.full_problem for e in stripped)
    assert any("<asy>" in e.full_problem for e in both)


def test_p1_is_regenerated_into_the_cache(
    data_dir: Path, cache_dir: Path, lists: dict[str, list[Any]]
) -> None:
    examples = load_dataset(
        "stateful-gsm-symbolic-p1", data_dir=data_dir, cache_dir=cache_dir, instances_per_template=2
    )
    _check(examples, "stateful-gsm-symbolic-p1", 200)
    path = p1_cache_path(cache_dir, instances_per_template=2, seed=0)
    assert path.is_file() and REPO not in path.parents
    # Every instance reads back: its variables meet the conditions and give its answer.
    templates = {t.key: t for t in load_templates(data_dir, "p1")}
    functions = common_functions()
    for e in examples:
        template = templates[e.meta["template"]]
        variables = recover_variables(template, e.full_problem, lists)
        assert variables is not None, e.id
        assert conditions_hold(template, {**lists, **variables}, functions), e.id
        assert numbers_equal(instantiate_with(template, variables).final_answer, parse_number(e.answer)), e.id
    # The second load reads the cache instead of regenerating.
    mtime = path.stat().st_mtime_ns
    again = load_dataset(
        "stateful-gsm-symbolic-p1", data_dir=data_dir, cache_dir=cache_dir, instances_per_template=2
    )
    assert again == examples and path.stat().st_mtime_ns == mtime


def test_p1_generation_is_deterministic_per_instance(data_dir: Path, lists: dict[str, list[Any]]) -> None:
    some: list[Template] = load_templates(data_dir, "p1")[:5]
    one = generate_rows(some, lists, instances_per_template=1, seed=0)
    two = generate_rows(some, lists, instances_per_template=2, seed=0)
    assert one == [row for row in two if row["instance"] == 0]
    other_seed = generate_rows(some, lists, instances_per_template=1, seed=1)
    assert [r["question"] for r in other_seed] != [r["question"] for r in one]


def test_limit_is_a_seeded_spread(data_dir: Path) -> None:
    full = load_dataset("stateful-gsm-symbolic-p2", data_dir=data_dir)
    picked = load_dataset("stateful-gsm-symbolic-p2", data_dir=data_dir, limit=50)
    assert len(picked) == 50
    assert picked == load_dataset("stateful-gsm-symbolic-p2", data_dir=data_dir, limit=50, seed=0)
    assert len({e.meta["template"] for e in picked}) >= 30
    order = [full.index(e) for e in picked]
    assert order == sorted(order)
    assert picked != load_dataset("stateful-gsm-symbolic-p2", data_dir=data_dir, limit=50, seed=1)
    assert subset(full, 0) == [] and subset(full, None) == full and subset(full, 10_000) == full
    with pytest.raises(InvalidInputError):
        subset(full, -1)


def test_splitter_option(data_dir: Path) -> None:
    sentence = load_dataset("stateful-gsm8k", data_dir=data_dir)
    naive = load_dataset("stateful-gsm8k", data_dir=data_dir, splitter="naive")
    differ = [
        a for a, b in zip(sentence, naive, strict=True) if (a.context, a.question) != (b.context, b.question)
    ]
    assert differ and all(a.answer == b.answer for a, b in zip(sentence, naive, strict=True))


def test_bad_names_and_options(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown dataset"):
        load_dataset("gsm9k", data_dir=data_dir)
    with pytest.raises(InvalidInputError, match="bad options") as info:
        load_dataset("stateful-gsm8k", data_dir=data_dir, strip_figures=True)
    assert "splitter" in info.value.hint
    with pytest.raises(InvalidInputError):
        load_dataset("stateful-gsm8k", data_dir=data_dir, splitter="words")
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_dataset("stateful-gsm8k", data_dir=tmp_path / "missing")


def test_default_dirs() -> None:
    assert default_data_dir({"SLEEPTIME_DATA_DIR": "/x/data"}) == Path("/x/data")
    assert default_data_dir({}) == (REPO / ".." / "shared" / "data").resolve()
    assert default_cache_dir({"SLEEPTIME_CACHE_DIR": "/x/cache"}) == Path("/x/cache")
    assert default_cache_dir({}).parts[-2:] == ("sleeptime", "datasets")


def test_records_round_trip() -> None:
    example = Example("a", "d", "c", "q", "1", "c q", (QA("q2", "2", "derived"),), {"k": [1]})
    assert Example.from_dict(example.to_dict()) == example
    assert example.questions[0] == QA("q", "1", "original")
    assert hash(example) == hash(Example("a", "d", "c", "q", "1", "c q", (QA("q2", "2", "derived"),)))
    assert gsm_gold("so\n#### $1,234") == "1234"
    assert aime_gold("025") == "25"
    with pytest.raises(ValueError):
        gsm_gold("no marker")
    with pytest.raises(ValueError):
        aime_gold("1/2")


def test_hub_rows_to_examples() -> None:
    rows = [
        {
            "question": "Full?",
            "stateful_aime_context": "Let x=1.",
            "stateful_aime_question": "Find x.",
            "answer": "001",
        }
    ]
    [example] = rows_to_examples(rows, "letta-ai/stateful-aime-2024")
    assert (example.context, example.question, example.answer) == ("Let x=1.", "Find x.", "1")
    assert (
        example.dataset == "hub:letta-ai/stateful-aime-2024"
        and example.id == "letta-ai-stateful-aime-2024-0000"
    )
    with pytest.raises(InvalidInputError, match="which column") as unclear:
        rows_to_examples([{"a_context": "", "b_context": "", "q_question": "", "answer": "1"}], "x/y")
    assert "context_field" in (unclear.value.hint or "")
