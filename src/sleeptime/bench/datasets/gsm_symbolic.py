"""Stateful GSM-Symbolic P1 and P2.

P2 comes from Apple's released instances (``generated_data/GSM_p2.jsonl``,
2,500 = 50 templates x 50). Apple's P1 file is not available, so P1 is
regenerated from the P1 templates (``instantiate``: every instance meets its
template's conditions and its worked answer is checked against ``#answer``),
deterministically per (seed, template, instance), into the cache dir. The data
is CC BY-NC-ND: nothing derived from it is written into the repository.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .records import Example, gsm_gold
from .splitting import Splitter, split_problem
from .templates import Template, instantiate, load_templates
from .vocab import load_vocabulary

P2_FILE = Path("gsm-symbolic") / "generated_data" / "GSM_p2.jsonl"
P1_PER_TEMPLATE = 50
P1_MAX_TRIES = 500_000
# Bump when generation changes, so stale cached P1 files are not reused.
GENERATOR_VERSION = 1


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl_atomic(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write ``rows`` so that ``path`` holds either the old file or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def examples_from_rows(
    rows: Iterable[Mapping[str, Any]], variant: str, dataset: str, splitter: Splitter
) -> list[Example]:
    """Examples from rows in Apple's format (``id``, ``instance``, ``question``, ``answer``)."""
    examples = []
    for row in rows:
        template, instance = int(row["id"]), int(row["instance"])
        context, question = split_problem(str(row["question"]), splitter)
        examples.append(
            Example(
                id=f"{variant}-{template:04d}-{instance:02d}",
                dataset=dataset,
                context=context,
                question=question,
                answer=gsm_gold(str(row["answer"])),
                full_problem=str(row["question"]),
                meta={
                    "template": f"{variant}/{template:04d}",
                    "instance": instance,
                    "original_id": row.get("original_id"),
                    "solution": str(row["answer"]),
                },
            )
        )
    return examples


def load_p2(data_dir: Path, *, splitter: Splitter = "sentence") -> list[Example]:
    """Stateful GSM-Symbolic P2 from Apple's released instances."""
    rows = read_jsonl(data_dir / P2_FILE)
    return examples_from_rows(rows, "p2", "stateful-gsm-symbolic-p2", splitter)


def instance_rng(seed: int, template: Template, instance: int) -> random.Random:
    """The generator for one instance: the same (seed, template, instance) always gives
    the same instance, whatever else is generated."""
    return random.Random(f"sleeptime-gsm-symbolic:{seed}:{template.key}:{instance}")


def generate_rows(
    templates: Iterable[Template],
    lists: Mapping[str, Any],
    *,
    instances_per_template: int,
    seed: int,
    max_tries: int = P1_MAX_TRIES,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows in Apple's format, ``instances_per_template`` per template."""
    rows = []
    for template in templates:
        if progress is not None:
            progress(template.key)
        for i in range(instances_per_template):
            inst = instantiate(template, instance_rng(seed, template, i), lists=lists, max_tries=max_tries)
            rows.append(
                {
                    "id": template.index,
                    "instance": i,
                    "question": inst.question,
                    "answer": inst.answer_text,
                    "original_id": template.original_id,
                    "template": template.key,
                    "seed": seed,
                }
            )
    return rows


def p1_cache_path(cache_dir: Path, *, instances_per_template: int, seed: int) -> Path:
    name = f"gsm-symbolic-p1-v{GENERATOR_VERSION}-n{instances_per_template}-seed{seed}.jsonl"
    return cache_dir / "gsm-symbolic" / name


def build_p1(
    data_dir: Path,
    cache_dir: Path,
    *,
    instances_per_template: int = P1_PER_TEMPLATE,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Generate stateful P1 into the cache dir unless it is there already; its path."""
    path = p1_cache_path(cache_dir, instances_per_template=instances_per_template, seed=seed)
    if not path.exists():
        rows = generate_rows(
            load_templates(data_dir, "p1"),
            load_vocabulary(data_dir),
            instances_per_template=instances_per_template,
            seed=seed,
            progress=progress,
        )
        write_jsonl_atomic(path, rows)
    return path


def load_p1(
    data_dir: Path,
    cache_dir: Path,
    *,
    instances_per_template: int = P1_PER_TEMPLATE,
    seed: int = 0,
    splitter: Splitter = "sentence",
) -> list[Example]:
    """Stateful GSM-Symbolic P1, regenerated from the P1 templates (cached)."""
    path = build_p1(data_dir, cache_dir, instances_per_template=instances_per_template, seed=seed)
    return examples_from_rows(read_jsonl(path), "p1", "stateful-gsm-symbolic-p1", splitter)


__all__ = [
    "GENERATOR_VERSION",
    "build_p1",
    "examples_from_rows",
    "generate_rows",
    "instance_rng",
    "load_p1",
    "load_p2",
    "p1_cache_path",
    "read_jsonl",
]
