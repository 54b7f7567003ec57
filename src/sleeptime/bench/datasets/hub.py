"""Load a stateful dataset published on the Hugging Face Hub (needs network and
the ``datasets`` package, imported only when called).

``load_dataset("hub:letta-ai/stateful-aime-2024")`` reads the rows, takes the
context and question from the ``*_context`` / ``*_question`` columns (as in the
paper's released sets, e.g. ``stateful_aime_context``) unless named, and the
answer from ``answer``.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from ...errors import ConfigurationError, InvalidInputError
from .records import Example

PREFIX = "hub:"


def _column(columns: list[str], suffix: str, given: str | None) -> str:
    if given is not None:
        return given
    matches = [c for c in columns if c.endswith(suffix)]
    if len(matches) != 1:
        raise InvalidInputError(
            f"cannot tell which column holds the {suffix.strip('_')}: {columns}",
            hint=f"the set needs one column ending in {suffix}, or load it from Python with "
            f"load_dataset(..., {suffix.strip('_')}_field=NAME)",
        )
    return matches[0]


def rows_to_examples(
    rows: list[dict[str, Any]],
    name: str,
    *,
    context_field: str | None = None,
    question_field: str | None = None,
    answer_field: str = "answer",
) -> list[Example]:
    """Examples from Hub rows (separate from the download, so it can be tested offline)."""
    if not rows:
        return []
    columns = list(rows[0])
    context_col = _column(columns, "_context", context_field)
    question_col = _column(columns, "_question", question_field)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    examples = []
    for i, row in enumerate(rows):
        context, question = str(row[context_col]), str(row[question_col])
        answer = str(row[answer_field]).strip()
        examples.append(
            Example(
                id=f"{slug}-{i:04d}",
                dataset=f"{PREFIX}{name}",
                context=context,
                question=question,
                answer=str(int(answer)) if answer.isdigit() else answer,
                full_problem=str(row.get("question") or f"{context} {question}"),
                meta={"hub": name, "row": i},
            )
        )
    return examples


def load_hub(
    name: str,
    *,
    split: str = "train",
    revision: str | None = None,
    context_field: str | None = None,
    question_field: str | None = None,
    answer_field: str = "answer",
) -> list[Example]:
    """Rows of Hub dataset ``name`` (``owner/dataset``) as Examples."""
    try:
        hf_datasets: Any = importlib.import_module("datasets")
    except ImportError:
        raise ConfigurationError(
            "loading a hub: dataset needs the 'datasets' package", hint="pip install datasets"
        ) from None
    try:
        table = hf_datasets.load_dataset(name, split=split, revision=revision)
    except Exception as exc:  # network, unknown set, gated: the datasets package's own types vary
        raise ConfigurationError(
            f"cannot load the Hugging Face dataset {name}: {type(exc).__name__}: {exc}",
            hint="check the name (--dataset hub:OWNER/NAME), the network and HF_TOKEN for gated sets",
        ) from None
    return rows_to_examples(
        [dict(row) for row in table],
        name,
        context_field=context_field,
        question_field=question_field,
        answer_field=answer_field,
    )


__all__ = ["PREFIX", "load_hub", "rows_to_examples"]
