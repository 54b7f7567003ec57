"""The repetition guard: exact logic on token lists, and the real embedded model ending a loop."""

from __future__ import annotations

import pytest

from sleeptime.llm.base import SamplingParams
from sleeptime.llm.llamacpp import LlamaCppModel
from sleeptime.llm.repetition import MIN_SPAN, looping


def test_a_tail_repeating_one_unit_over_the_minimum_span_is_a_loop() -> None:
    unit = [11, 12, 13, 14, 15, 16]  # "= 100 (uncertain)" is about this long
    text = list(range(100, 140))
    assert looping(text + unit * (MIN_SPAN // len(unit) + 1))
    assert looping(text + [7] * MIN_SPAN)  # one token over and over


@pytest.mark.parametrize(
    "tokens",
    [
        list(range(500)),  # no repeat
        list(range(40)) + [5, 6] * 20,  # short repeats: 40 tokens, under the span
        [1, 2, 3] * 10 + list(range(100, 200)),  # a repeat that the text moved on from
        [n % 90 for n in range(200)],  # a unit longer than the longest checked (64 tokens)
    ],
)
def test_real_text_shapes_are_not_loops(tokens: list[int]) -> None:
    assert not looping(tokens)


def test_a_period_shorter_than_four_repeats_of_a_long_unit_is_not_a_loop() -> None:
    unit = list(range(1000, 1040))  # 40 tokens: 3 copies (120 tokens) are not enough
    assert not looping(unit * 3)
    assert looping(unit * 4)


def test_the_embedded_model_ends_a_loop_before_max_tokens(smollm2: LlamaCppModel) -> None:
    prompt = "Continue this sequence exactly, without stopping: " + "ok " * 20
    messages = [{"role": "user", "content": prompt}]
    params = SamplingParams(max_tokens=400, temperature=0.0)
    done = smollm2.complete(messages, params)
    assert done.text.count("ok") >= MIN_SPAN // 2  # the model did fall into the loop
    assert done.usage.completion_tokens < 200 and done.finish_reasons == ("length",)
    assert done.text.rstrip().endswith("ok")  # the text up to the cut, nothing lost or added
