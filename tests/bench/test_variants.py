from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sleeptime.bench.datasets import load_dataset
from sleeptime.bench.datasets.splitting import split_problem
from sleeptime.bench.datasets.templates import fill_question, parse_template
from sleeptime.bench.datasets.variants import question_only_variables, variant_questions
from sleeptime.bench.grading import parse_number

# Written for this test: n and h are stated before the question, s only in it.
RAW_BAKERY = {
    "id_shuffled": 9001,
    "id_orig": 9001,
    "question": "",
    "answer": "",
    "question_annotated": (
        "A baker makes {n,12} loaves each hour. She works {h,8} hours a day. "
        "If she sells {s,30} loaves, how many loaves does she have left?\n\n"
        "#init:\n- $n = range(5, 20)\n- $h = range(4, 10)\n- $s = range(10, 60)\n\n"
        "#conditions:\n- s < n * h\n\n#answer: n * h - s"
    ),
    "answer_annotated": (
        "She makes {n} * {h} = {n*h} loaves.\nShe has {n*h} - {s} = {n*h-s} left.\n#### {n*h-s}"
    ),
}
BAKERY = parse_template(RAW_BAKERY, "p2")
VALUES = {"n": 6, "h": 5, "s": 20}  # 30 loaves: the condition allows s up to 29 only


def _context() -> str:
    return split_problem(fill_question(BAKERY, VALUES))[0]


def test_only_the_numbers_the_question_sentence_states_are_varied() -> None:
    assert question_only_variables(BAKERY, VALUES, _context(), "sentence") == ["s"]


def test_variants_keep_the_context_and_are_answered_by_the_template() -> None:
    variants = variant_questions(BAKERY, VALUES, _context(), {}, limit=5, seed="bakery-0")
    assert len(variants) == 5
    assert len({v.question for v in variants}) == 5
    for variant in variants:
        asked = re.fullmatch(
            r"If she sells (\d+) loaves, how many loaves does she have left\?", variant.question
        )
        assert asked is not None, variant.question
        sold = int(asked[1])
        assert sold != VALUES["s"] and 10 <= sold < 30  # the template's range and its condition
        assert variant.answer == str(30 - sold)
        assert variant.source == "variant"
    again = variant_questions(BAKERY, VALUES, _context(), {}, limit=5, seed="bakery-0")
    assert again == variants
    assert variant_questions(BAKERY, VALUES, _context(), {}, limit=0, seed="bakery-0") == []


def test_a_question_that_states_no_number_of_its_own_has_no_variants() -> None:
    raw = {
        **RAW_BAKERY,
        "id_shuffled": 9002,
        "question_annotated": RAW_BAKERY["question_annotated"].replace(
            "If she sells {s,30} loaves, how many", "She sells {s,30} loaves. How many"
        ),
    }
    stated_before = parse_template(raw, "p2")
    context = split_problem(fill_question(stated_before, VALUES))[0]
    assert "sells 20 loaves" in context
    assert question_only_variables(stated_before, VALUES, context, "sentence") == []
    assert variant_questions(stated_before, VALUES, context, {}, seed="x") == []


def test_p2_variants_on_the_published_data(data_dir: Path, cache_dir: Path) -> None:
    """Every variant is about its context unchanged, with a number for its answer, and enough
    contexts reach ten questions for the paper's N = 10 without any model."""
    examples = load_dataset("multi-query-gsm-symbolic-p2", data_dir=data_dir, cache_dir=cache_dir)
    with_variants = [e for e in examples if any(q.source == "variant" for q in e.questions)]
    assert len(with_variants) > 80
    assert sum(len(e.questions) >= 10 for e in examples) >= 20
    for example in with_variants:
        sources = [q.source for q in example.questions]
        order = {"original": 0, "derived": 1, "variant": 2}
        assert sources == sorted(sources, key=order.__getitem__)  # first N: derived ones before variants
        for qa in example.questions:
            if qa.source == "variant":
                assert parse_number(qa.answer) is not None
                assert qa.question != example.question
                assert split_problem(f"{example.context} {qa.question}")[0] == example.context
    none: dict[str, Any] = {"max_variants": 0}
    plain = load_dataset("multi-query-gsm-symbolic-p2", data_dir=data_dir, cache_dir=cache_dir, **none)
    assert not any(q.source == "variant" for e in plain for q in e.questions)
