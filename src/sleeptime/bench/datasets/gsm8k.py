"""Stateful GSM8K: OpenAI's GSM8K test set (1,319 problems), split at the last sentence."""

from __future__ import annotations

from pathlib import Path

from .gsm_symbolic import read_jsonl
from .records import Example, gsm_gold
from .splitting import Splitter, split_problem

GSM8K_FILE = Path("gsm8k") / "test.jsonl"


def load_gsm8k(data_dir: Path, *, splitter: Splitter = "sentence") -> list[Example]:
    """Every GSM8K test problem; ids ``gsm8k-0000`` follow the file order (GSM-Symbolic's ``original_id``)."""
    examples = []
    for index, row in enumerate(read_jsonl(data_dir / GSM8K_FILE)):
        problem = str(row["question"])
        context, question = split_problem(problem, splitter)
        examples.append(
            Example(
                id=f"gsm8k-{index:04d}",
                dataset="stateful-gsm8k",
                context=context,
                question=question,
                answer=gsm_gold(str(row["answer"])),
                full_problem=problem,
                meta={"index": index, "solution": str(row["answer"])},
            )
        )
    return examples


__all__ = ["load_gsm8k"]
