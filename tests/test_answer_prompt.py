"""The answer prompt's layout: what questions on one context share comes first, the question last."""

from __future__ import annotations

from sleeptime import prompts
from sleeptime.llm.base import Message

CONTEXT = "A farm keeps 12 cows and 30 hens."
NOTES = "total_legs = 108"


def shared_text(variants: list[list[Message]]) -> str:
    texts = [v[-1]["content"] for v in variants]
    assert all(v[:-1] == variants[0][:-1] for v in variants)  # the system prompt is the same
    shared = texts[0]
    for text in texts[1:]:
        while not text.startswith(shared):
            shared = shared[:-1]
    return shared


def test_the_question_comes_after_the_verbosity_instruction() -> None:
    for verbosity, instruction in enumerate(prompts.VERBOSITY_INSTRUCTIONS):
        user = prompts.answer_messages(CONTEXT, NOTES, "How many legs?", verbosity)[-1]["content"]
        assert user.endswith("QUESTION: How many legs?")
        assert user.index(NOTES) < user.index(instruction) < user.index("QUESTION:")


def test_a_verbosity_prefix_holds_everything_but_the_question() -> None:
    computed = prompts.answer_prefix_messages(CONTEXT, NOTES, computable=True, verbosity=0)
    shared = shared_text(computed)
    assert shared.endswith(f"{prompts.COMPUTE_INSTRUCTION}\n\nQUESTION: ")
    real = prompts.answer_messages(CONTEXT, NOTES, "How many legs?", 0, computable=True)[-1]["content"]
    assert real.startswith(shared)
    assert shared_text(prompts.answer_prefix_messages(CONTEXT, NOTES, verbosity=4)).endswith(
        f"{prompts.VERBOSITY_INSTRUCTIONS[4]}\n\nQUESTION: "
    )


def test_the_prefix_every_verbosity_shares_ends_with_the_notes() -> None:
    shared = shared_text(prompts.answer_prefix_messages(CONTEXT, NOTES, verbosity=None))
    assert shared.endswith(f"{NOTES}\n>>>\n\n")
    for verbosity in range(len(prompts.VERBOSITY_INSTRUCTIONS)):
        for computable in (False, True):
            user = prompts.answer_messages(CONTEXT, NOTES, "Why?", verbosity, computable=computable)
            assert user[-1]["content"].startswith(shared)
