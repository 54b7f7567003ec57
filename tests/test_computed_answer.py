"""Verbosity 0 over a learned context with named values: the model writes one line of Python
(``answer = pages_left / 4``) and the sandbox computes it over those values; a question that adds
facts of its own is answered with a whole program instead (``answer.AnswerInput.program``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from sleeptime import Engine, prompts
from sleeptime.llm.base import Message
from sleeptime.llm.fake import ScriptedModel
from sleeptime.prompts import COMPUTE_INSTRUCTION, VERBOSITY_INSTRUCTIONS
from sleeptime.verify import computed_answer

VALUES = {"pages_total": 120, "pages_read": 12, "pages_left": 108, "reader": "Amir"}


@pytest.mark.parametrize(
    ("reply", "result"),
    [
        ("answer = pages_left / 4", "27"),
        ("```python\nanswer = (pages_total - pages_read) / 4\n```", "27"),
        ("per_day = pages_left / 4\nanswer = per_day * 2", "54"),
        ("answer = pages_left / 5", "21.6"),
        ("answer = reader", "Amir"),
        ("answer = 7", "7"),
        ("```python\nper_day = pages_left / 4\nprint(per_day)\n```", "27"),  # printed, not assigned
    ],
)
def test_a_computation_over_the_learned_values_is_run_and_stated(reply: str, result: str) -> None:
    text = computed_answer(reply, VALUES)
    assert text.startswith(reply.rstrip())  # the model's reply is kept, then its result
    assert text.endswith(f"\nThe answer is {result}.")


@pytest.mark.parametrize(
    "reply",
    [
        "answer = pages_unknown / 4",  # a name the learned context does not define
        "answer = __import__('os').system('echo hacked')",  # refused by the sandbox
        "answer = open('/etc/passwd').read()",
        "answer = 10 ** 10 ** 10",  # killed by the CPU limit
        "answer = pages_left > 100",  # a truth value is no answer
    ],
)
def test_a_failing_or_hostile_computation_is_left_as_written(reply: str) -> None:
    assert computed_answer(reply, VALUES) == reply


def test_prose_is_not_run_and_its_arithmetic_is_still_recomputed() -> None:
    assert computed_answer("The answer is 108 / 4 = 26.", VALUES) == "The answer is 108 / 4 = 27."
    # Without learned values (the test-time-only baseline) a reply is never run as a program.
    assert computed_answer("answer = 108 / 4", None) == "answer = 108 / 4"


CONTEXT = "Amir's book has 120 pages. He has read 12 of them."


def _sleeping_model() -> ScriptedModel:
    def reply(messages: Sequence[Message]) -> str:
        if "JSON object" in messages[-1]["content"]:
            return json.dumps({"questions": ["How many pages are left?"]})
        return "```python\npages_total = 120\npages_read = 12\nanswer = pages_total - pages_read\n```"

    model = ScriptedModel()
    model.extend([reply] * 2)  # anticipate, then the default budget's one program per question
    return model


def test_engine_answers_at_verbosity_0_by_computing_over_its_entries(tmp_path: Path) -> None:
    model = _sleeping_model()
    model.extend(["answer = (pages_total - pages_read) / 2", "answer = pages_left_typo / 2"])
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        question = "What is half of what he has left to read?"
        answer = engine.ask(ctx.id, question, {"verbosity": 0})
        prompt = model.calls[-1][0][-1]["content"]
        assert COMPUTE_INSTRUCTION in prompt and "pages_total = 120\n" in prompt
        assert answer.text == "answer = (pages_total - pages_read) / 2\nThe answer is 54."
        assert engine.list_queries(ctx.id)[0].answer == answer.text  # recorded as returned
        wrong = engine.ask(ctx.id, question, {"verbosity": 0})
        assert wrong.text == "answer = pages_left_typo / 2"  # nothing invented for a failed run


PROGRAM = "```python\npages_left = 120 - 12\nanswer = pages_left / 4\n```"
WRITTEN = PROGRAM.removesuffix(prompts.PROGRAM_FENCE_END)  # the stop sequence ends the reply there


def test_a_question_that_adds_facts_is_answered_with_a_program(tmp_path: Path) -> None:
    model = _sleeping_model()
    model.extend([PROGRAM, "The answer is 27.", "The answer is 27."])
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        question = "If he reads the rest in 4 days, how many pages a day?"  # 4 is new
        answer = engine.ask(ctx.id, question, {"verbosity": 0})
        messages, params = model.calls[-1]
        assert list(messages) == prompts.solve_with_program(CONTEXT, question)
        assert params.stop == (prompts.PROGRAM_FENCE_END,)  # no explanation after the program
        assert answer.text == f"{WRITTEN}\nThe answer is 27." and answer.source == "learned"
        # Only verbosity 0 on a learned context: a larger budget reasons, the baseline stays the paper's.
        engine.ask(ctx.id, question, {"verbosity": 4})
        assert VERBOSITY_INSTRUCTIONS[4] in model.calls[-1][0][-1]["content"]
        engine.ask(ctx.id, question, {"verbosity": 0}, use_learned=False)
        assert VERBOSITY_INSTRUCTIONS[0] in model.calls[-1][0][-1]["content"]


def test_a_program_runs_without_the_learned_values_it_never_saw(tmp_path: Path) -> None:
    """The program prompt shows the context, not the notes: a name the program uses without assigning
    it must fail, not take the learned quantity of that name (on public data a self-referencing
    ``total_students = 3/4 * (total_students - 20)`` silently picked up a learned 60)."""
    model = _sleeping_model()
    unassigned = "```python\ndays = 4\nanswer = pages_total / days\n```"
    model.extend([unassigned])
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        learned = engine.learned_context(ctx.id)
        assert learned is not None and learned.entries is not None
        assert learned.entries.values()["pages_total"] == 120
        question = "If he reads the rest in 4 days, how many pages a day?"
        answer = engine.ask(ctx.id, question, {"verbosity": 0})
        assert list(model.calls[-1][0]) == prompts.solve_with_program(CONTEXT, question)
        assert "The answer is" not in answer.text  # not 30 = 120 / 4 from the learned pages_total


def test_a_cloze_with_new_numbers_is_filled_by_the_terse_line(tmp_path: Path) -> None:
    """A blank in a quoted step ("reads 108 / 4 = ___ pages") is filled, not re-solved by a program."""
    model = _sleeping_model()
    model.extend(["answer = 108 / 4"])
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        question = 'Fill in the blank: "He reads 108 / 4 = ___ pages a day."'  # 4 and 108 are new
        answer = engine.ask(ctx.id, question, {"verbosity": 0})
        prompt = model.calls[-1][0][-1]["content"]
        assert COMPUTE_INSTRUCTION in prompt and "pages_total = 120\n" in prompt
        assert list(model.calls[-1][0]) != prompts.solve_with_program(CONTEXT, question)
        assert answer.text == "answer = 108 / 4\nThe answer is 27."


def test_a_number_only_an_anticipated_question_has_is_still_a_new_fact(tmp_path: Path) -> None:
    """An anticipated question's numbers are no cover: on public data they matched by coincidence."""

    def reply(messages: Sequence[Message]) -> str:
        if "JSON object" in messages[-1]["content"]:
            return json.dumps({"questions": ["What is the chance of rolling a 4?"]})
        return "```python\npages_total = 120\npages_read = 12\nanswer = pages_total - pages_read\n```"

    model = ScriptedModel()
    model.extend([reply] * 2 + [PROGRAM])
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        question = "If he reads the rest in 4 days, how many pages a day?"  # 4: only anticipated
        answer = engine.ask(ctx.id, question, {"verbosity": 0})
        assert list(model.calls[-1][0]) == prompts.solve_with_program(CONTEXT, question)
        assert answer.text == f"{WRITTEN}\nThe answer is 27."


def test_a_streamed_program_answer_ends_with_its_result(tmp_path: Path) -> None:
    model = _sleeping_model()
    model.extend([PROGRAM])
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        question = "If he reads the rest in 4 days, how many a day?"
        stream = engine.ask_stream(ctx.id, question, {"verbosity": 0})
        assert "".join(stream) == stream.answer.text == f"{WRITTEN}\nThe answer is 27."


def test_streamed_computed_answer_ends_with_its_result(tmp_path: Path) -> None:
    model = _sleeping_model()
    model.extend(["answer = pages_read * 2"])
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        stream = engine.ask_stream(ctx.id, "Twice the pages read?", {"verbosity": 0})
        pieces = list(stream)
        assert "".join(pieces) == stream.answer.text == "answer = pages_read * 2\nThe answer is 24."


def test_only_verbosity_0_from_values_asks_for_a_computation(tmp_path: Path) -> None:
    model = _sleeping_model()
    with Engine(model=model, store=f"sqlite:///{tmp_path}/c.db") as engine:
        ctx = engine.add_context(CONTEXT)
        engine.sleep(ctx.id)
        engine.ask(ctx.id, "How many pages are left?", {"verbosity": 2})
        assert VERBOSITY_INSTRUCTIONS[2] in model.calls[-1][0][-1]["content"]
        engine.ask(ctx.id, "How many pages are left?", {"verbosity": 0}, use_learned=False)
        baseline = model.calls[-1][0][-1]["content"]
        assert VERBOSITY_INSTRUCTIONS[0] in baseline and COMPUTE_INSTRUCTION not in baseline
