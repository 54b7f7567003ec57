"""Stateful AIME 2024 and 2025 (30 problems each).

Problems come from MathArena's LaTeX files (``matharena/aime_YYYY_{I,II}/problems/N.tex``
with ``answers.csv``); the Qwen2.5-Math copy of AIME 2024 serves as a cross-check.
The split is LaTeX-aware (``split_latex_problem``): the last asking statement is
the question and anything after it joins the context; a one-statement problem
has an empty context. ``strip_figures=True`` removes Asymptote/TikZ figure code,
which can give away the answer.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .gsm_symbolic import read_jsonl
from .records import Example, aime_gold
from .splitting import Splitter, split_latex_problem, split_naive, strip_figures

YEARS = (2024, 2025)
PARTS = ("I", "II")
QWEN_AIME24 = Path("aime-2024") / "qwen25-math" / "test.jsonl"


def _exam_dir(data_dir: Path, year: int, part: str) -> Path:
    return data_dir / f"aime-{year}" / "matharena" / f"aime_{year}_{part}"


def load_aime(
    data_dir: Path,
    years: tuple[int, ...] = YEARS,
    *,
    splitter: Splitter = "sentence",
    strip_figures_code: bool = False,
) -> list[Example]:
    """AIME problems of ``years``; ids ``aime-2024-I-01``; gold answers without zero padding."""
    examples = []
    for year in years:
        if year not in YEARS:
            raise ValueError(f"no AIME {year} data; available: {YEARS}")
        dataset = f"stateful-aime-{year}" if len(years) == 1 else "stateful-aime"
        for part in PARTS:
            folder = _exam_dir(data_dir, year, part)
            with (folder / "answers.csv").open(encoding="utf-8", newline="") as fh:
                answers = {int(r["id"]): aime_gold(r["answer"]) for r in csv.DictReader(fh)}
            for number in sorted(answers):
                problem = (folder / "problems" / f"{number}.tex").read_text(encoding="utf-8").strip()
                shown = strip_figures(problem) if strip_figures_code else problem
                if splitter == "naive":
                    context, question = split_naive(shown)
                else:
                    context, question = split_latex_problem(shown)
                examples.append(
                    Example(
                        id=f"aime-{year}-{part}-{number:02d}",
                        dataset=dataset,
                        context=context,
                        question=question,
                        answer=answers[number],
                        full_problem=shown,
                        meta={"year": year, "exam": part, "number": number},
                    )
                )
    return examples


def load_qwen_aime2024(data_dir: Path) -> dict[str, tuple[str, str]]:
    """The Qwen2.5-Math copy of AIME 2024: ``{"aime-2024-I-01": (problem, answer)}``."""
    out = {}
    for row in read_jsonl(data_dir / QWEN_AIME24):
        m = re.search(r"(\d{4})_AIME_(I+)_Problems/Problem_(\d+)", str(row["url"]))
        if not m:
            raise ValueError(f"unexpected AIME url {row['url']!r}")
        key = f"aime-{m.group(1)}-{m.group(2)}-{int(m.group(3)):02d}"
        out[key] = (str(row["problem"]), aime_gold(row["answer"]))
    return out


__all__ = ["YEARS", "load_aime", "load_qwen_aime2024"]
