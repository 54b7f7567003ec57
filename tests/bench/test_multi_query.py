from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from sleeptime.bench.datasets import load_dataset
from sleeptime.bench.datasets.multi_query import (
    SOLVE_PROMPT,
    cached_generated_questions,
    derived_questions,
    format_number,
    generate_questions,
    generated_cache_path,
    parse_generated,
)
from sleeptime.bench.datasets.records import QA
from sleeptime.bench.datasets.recovery import recover_variables
from sleeptime.bench.datasets.templates import Template
from sleeptime.bench.grading import parse_number
from sleeptime.llm.base import Message


def _numbers(text: str) -> set[Fraction]:
    found = (parse_number(n) for n in re.findall(r"\d[\d,]*(?:\.\d+)?(?:/\d+)?", text))
    return {n for n in found if n is not None}


def test_derived_answers_match_apples_worked_solutions(
    templates: dict[str, Template], lists: dict[str, list[Any]], p2_rows: list[dict[str, Any]]
) -> None:
    """Derived answers are computed from the variables read off the question; each
    must appear in Apple's own worked solution for that instance."""
    total = found = without = 0
    for row in p2_rows:
        template = templates[f"p2/{row['id']:04d}"]
        variables = recover_variables(template, row["question"], lists)
        assert variables is not None
        final = parse_number(row["answer"].rsplit("####", 1)[1])
        qas = derived_questions(template, variables, final_answer=final)
        without += not qas
        solution_numbers = _numbers(row["answer"])
        for qa in qas:
            total += 1
            found += parse_number(qa.answer) in solution_numbers  # "0.25" is "1/4" there
            assert qa.source == "derived"
            assert qa.question.count("___") == 1
            assert parse_number(qa.answer) != final
        assert len({qa.answer for qa in qas}) == len(qas)
    assert total > 7000
    print(f"derived answers found in the published solutions: {found}/{total}")
    assert found / total > 0.99, (found, total)
    assert without < 100


def test_format_number() -> None:
    assert format_number(Fraction(5, 2)) == "2.5"
    assert format_number(Fraction(1, 3)) == "1/3"
    assert format_number(12.0) == "12"
    assert format_number(Fraction(4, 1)) == "4"


def test_multi_query_dataset(data_dir: Path, cache_dir: Path) -> None:
    examples = load_dataset("multi-query-gsm-symbolic-p2", data_dir=data_dir, cache_dir=cache_dir)
    assert len(examples) == 500
    assert {e.meta["instance"] for e in examples} == set(range(10))
    assert sum(len(e.extra_questions) for e in examples) / len(examples) > 2.5
    assert all(e.questions[0].source == "original" for e in examples)
    p1 = load_dataset(
        "multi-query-gsm-symbolic-p1",
        data_dir=data_dir,
        cache_dir=cache_dir,
        contexts_per_template=2,
        limit=40,
    )
    assert len(p1) == 40 and all(e.dataset == "multi-query-gsm-symbolic-p1" for e in p1)
    assert sum(len(e.extra_questions) for e in p1) > 40


GENERATION = """Here are the questions.

Q: How many apples does Tom have after buying 3 more?
A: He had 5, so 5 + 3 = 8.
#### 8

2. Q: How many apples do they have together?
A: 5 + 4 = 9
#### 9

Q: A question without an answer marker
A: no number here

Q: How many pears are left?
A: 10 - 4 = 6
#### $6
"""


class Scripted:
    """A fake model: the generation text, then one solution per verification call."""

    def __init__(self, solutions: dict[str, str]) -> None:
        self.solutions = solutions
        self.calls: list[list[Message]] = []

    def __call__(self, messages: list[Message]) -> str:
        self.calls.append(messages)
        content = messages[-1]["content"]
        if "Write 3 new questions" in content:
            return GENERATION
        return next(answer for question, answer in self.solutions.items() if question in content)


def test_parse_generated() -> None:
    assert parse_generated(GENERATION) == [
        ("How many apples does Tom have after buying 3 more?", "8"),
        ("How many apples do they have together?", "9"),
        ("How many pears are left?", "6"),
    ]
    assert parse_generated("no blocks at all") == []


def test_generated_questions_are_kept_only_when_their_program_agrees() -> None:
    model = Scripted(
        {
            "after buying 3 more": "```python\ntom = 5\nanswer = tom + 3\n```",
            "together": "```python\nanswer = 5 + 5\n```",  # computes 10, not the proposed 9: dropped
            "pears": "The answer is 6.0",  # no program that runs: the step-by-step check decides
        }
    )
    qas = generate_questions(model, "Tom has 5 apples and Ann has 4.", 3, example_question="How many?")
    assert [(q.answer, q.source) for q in qas] == [("8", "generated"), ("6", "generated")]
    # One generation, three programs, and one step-by-step solution for the program that did not run.
    assert len(model.calls) == 5
    program = model.calls[1]
    assert "Python program" in program[-1]["content"] and "Tom has 5 apples" in program[-1]["content"]
    assert model.calls[-1][0] == {"role": "system", "content": SOLVE_PROMPT}
    unverified = generate_questions(Scripted({}), "ctx", 3, verify=False)
    assert len(unverified) == 3


def test_generated_sets_are_cached_per_model_and_seed(tmp_path: Path) -> None:
    model = Scripted({"after buying": "#### 8", "together": "#### 9", "pears": "#### 6"})
    context = "Tom has 5 apples and Ann has 4."
    assert cached_generated_questions(tmp_path, model="m/1", seed=0, context=context, n=3) is None
    first = cached_generated_questions(
        tmp_path, model="m/1", seed=0, context=context, n=3, llm_complete=model
    )
    assert first is not None and len(first) == 3 and all(q.source == "generated:m/1" for q in first)
    calls = len(model.calls)
    again = cached_generated_questions(
        tmp_path, model="m/1", seed=0, context=context, n=3, llm_complete=model
    )
    assert again == first and len(model.calls) == calls
    path = generated_cache_path(tmp_path, model="m/1", seed=0, context=context, n=3)
    assert path.is_file() and "m_1" in path.parts
    assert generated_cache_path(tmp_path, model="m/1", seed=1, context=context, n=3) != path


def test_multi_query_includes_cached_generated_sets(data_dir: Path, tmp_path: Path) -> None:
    def model(messages: list[Message]) -> str:
        if "new questions" in messages[-1]["content"]:
            return "Q: How many whales are there?\nA: two\n#### 2"
        return "#### 2"

    examples = load_dataset(
        "multi-query-gsm-symbolic-p2",
        data_dir=data_dir,
        cache_dir=tmp_path,
        contexts_per_template=1,
        limit=3,
        generated_model="fake",
        generated_n=1,
        llm_complete=model,
    )
    assert all(QA("How many whales are there?", "2", "generated:fake") in e.extra_questions for e in examples)
    # Read back from the cache without a model.
    cached = load_dataset(
        "multi-query-gsm-symbolic-p2",
        data_dir=data_dir,
        cache_dir=tmp_path,
        contexts_per_template=1,
        limit=3,
        generated_model="fake",
        generated_n=1,
    )
    assert cached == examples
