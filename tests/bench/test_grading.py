from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sleeptime.bench.grading import (
    boxed_contents,
    extract_aime_answer,
    extract_gsm_answer,
    extract_last_number,
    final_answer_text,
    grade_aime,
    grade_gsm,
    parse_number,
)


@pytest.mark.parametrize(
    ("prediction", "gold", "correct"),
    [
        ("The answer is 45.", "45", True),
        ("The answer is 45.0", "45", True),  # the reference's string compare fails this one
        ("#### 45", "45.0", True),
        ("She pays $1,234.50 in total. The answer is $1,234.50.", "1234.5", True),
        ("It takes 3/4 of an hour, so the answer is 3/4", "0.75", True),
        ("So 0.75 of it.", "3/4", True),
        ("The temperature is -5 degrees.", "-5", True),
        ("The temperature is −5 degrees.", "-5", True),
        ("5-3 = 2", "2", True),
        ("The answer is 45%.", "45", True),
        ("The answer is 45", "46", False),
        ("The answer is 44.9999999", "45", True),
        ("The answer is 44.99", "45", False),
        ("First 12, then 7. The answer is 19. Check: 12 + 7 = 19", "19", True),
        ("#### 19\nWait, 12 + 8 = 20", "19", True),  # the #### line is the final answer
        ("The answer is: 1,000,000", "1000000", True),
        ("I cannot tell.", "3", False),
        ("", "3", False),
        (r"so \boxed{72}", "72", True),
        ("The answer is .5", "0.5", True),
        ("Items: 1, 2, 3", "3", True),
    ],
)
def test_grade_gsm(prediction: str, gold: str, correct: bool) -> None:
    assert grade_gsm(prediction, gold) is correct


def test_grade_gsm_rejects_a_non_numeric_gold() -> None:
    with pytest.raises(ValueError, match="not a number"):
        grade_gsm("4", "four")


def test_extraction_helpers() -> None:
    assert extract_last_number("costs $1,234.50.") == "1234.50"
    assert extract_last_number("no digits") is None
    assert extract_last_number("v2 of x") is None
    assert final_answer_text("blah #### 7 apples\nmore 8") == "7 apples"
    assert final_answer_text("I think the answer is 3. Done\nNo, 4") == "3. Done"
    assert extract_gsm_answer("The answer is ten, i.e. 10.") == "10"
    assert parse_number("1/0") is None and parse_number("abc") is None
    assert parse_number("-$1,000.5%") == Fraction(-2001, 2)


@pytest.mark.parametrize(
    ("prediction", "gold", "correct"),
    [
        (r"Thus $m+n = \boxed{204}$.", "204", True),
        (r"\boxed{025}", "25", True),
        (r"First \boxed{12}, corrected: \boxed{\text{the answer is } 33}", "33", True),
        (r"\boxed{\frac{1}{2}} is wrong; final \boxed{ 7 }", "7", True),
        (r"$\boxed{m+n=116}$", "116", True),
        ("No box, but the answer is 809 and 2024 is the year", "809", True),
        ("The answer is 1000", "0", False),
        (r"\boxed{5}", "6", False),
        ("nothing here", "5", False),
    ],
)
def test_grade_aime(prediction: str, gold: str, correct: bool) -> None:
    assert grade_aime(prediction, gold) is correct


def test_boxed_nested_braces() -> None:
    assert boxed_contents(r"\boxed{\frac{a}{b}} and \fbox{3} and \boxed{unclosed") == [r"\frac{a}{b}", "3"]
    assert extract_aime_answer(r"\boxed{1{,}000}") == 1000


def _formats(value: Decimal) -> st.SearchStrategy[str]:
    plain = format(value, "f")
    whole = value == value.to_integral_value()
    options = [plain, f"{value:,f}", f"${value:,f}", f"{plain}%"]
    if whole:
        options += [f"{plain}.0", f"{plain}.00", f"{int(value):,}"]
    return st.sampled_from(options)


NUMBERS = st.one_of(
    st.integers(-(10**7), 10**7).map(Decimal),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
)


@given(
    NUMBERS.flatmap(lambda v: st.tuples(st.just(v), _formats(v))),
    st.sampled_from(["The answer is {}.", "#### {}", "So she has {} left"]),
)
def test_formatted_numbers_round_trip(pair: tuple[Decimal, str], sentence: str) -> None:
    value, written = pair
    text = sentence.format(written)
    assert grade_gsm(text, format(value, "f"))
    assert not grade_gsm(text, format(value + 1, "f"))
