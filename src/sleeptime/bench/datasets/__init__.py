"""Benchmark datasets for ``sleeptime bench``: every loader returns ``Example`` records.

``load_dataset(name, data_dir=..., limit=..., seed=..., cache_dir=..., **options)``
is the one entry point; ``DATASETS`` names what it knows (plus ``hub:OWNER/NAME``).
Data is read from ``data_dir`` (default ``default_data_dir()``; ``sources.py`` says
which files each dataset needs, where they come from and under which licence); derived files
(regenerated P1, generated multi-query sets) go to ``cache_dir`` (default
``default_cache_dir()``), never into the repository.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...errors import InvalidInputError
from .aime import load_aime
from .gsm8k import load_gsm8k
from .gsm_symbolic import load_p1, load_p2
from .hub import PREFIX as HUB_PREFIX
from .hub import load_hub
from .multi_query import LLMComplete, load_multi_query
from .paths import default_cache_dir, default_data_dir
from .records import QA, Example
from .sources import SOURCES, check_dataset
from .swe_features import file_f1, load_swe_features
from .variants import MAX_VARIANTS

SplitterName = Literal["sentence", "naive"]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class GsmOptions(_Options):
    splitter: SplitterName = Field(
        "sentence", description="'sentence' (keeps numbers whole) or 'naive' (reference)."
    )


class P1Options(GsmOptions):
    instances_per_template: int = Field(
        50, ge=1, description="Instances regenerated per P1 template (100 templates)."
    )
    generation_seed: int = Field(
        0, description="Seed of the P1 regeneration (separate from the subset seed)."
    )


class AimeOptions(GsmOptions):
    strip_figures: bool = Field(
        False, description="Remove Asymptote/TikZ figure code, which can leak answers."
    )


class MultiQueryOptions(GsmOptions):
    contexts_per_template: int = Field(
        10, ge=1, description="Contexts per template (P2: 50 templates, P1: 100)."
    )
    max_derived: int = Field(10, ge=0, description="Most questions derived from a worked answer per context.")
    max_variants: int = Field(
        MAX_VARIANTS, ge=0, description="Most variations of the question (other numbers) per context."
    )
    generated_model: str | None = Field(None, description="Add this model's cached generated questions.")
    generated_n: int = Field(10, ge=1, description="Generated questions asked for per context.")
    generation_seed: int = Field(0, description="Seed the generated sets are cached under.")
    llm_complete: LLMComplete | None = Field(None, description="Generate missing sets with this callable.")


class SweOptions(_Options):
    path: Path | None = Field(
        None, description="A SWE-Features JSONL file; default: the bundled example task."
    )


class HubOptions(_Options):
    split: str = Field("train", description="Which split of the Hub dataset.")
    revision: str | None = Field(None, description="A Hub revision (commit, tag or branch).")
    context_field: str | None = Field(None, description="Column holding the context (default: *_context).")
    question_field: str | None = Field(None, description="Column holding the question (default: *_question).")
    answer_field: str = Field("answer", description="Column holding the answer.")


Loader = Callable[[Path, Path, Any], list[Example]]

_LOADERS: dict[str, tuple[type[_Options], Loader, str]] = {
    "stateful-gsm-symbolic-p2": (
        GsmOptions,
        lambda d, c, o: load_p2(d, splitter=o.splitter),
        "GSM-Symbolic P2, Apple's 2,500 released instances, split at the last sentence.",
    ),
    "stateful-gsm-symbolic-p1": (
        P1Options,
        lambda d, c, o: load_p1(
            d, c, instances_per_template=o.instances_per_template, seed=o.generation_seed, splitter=o.splitter
        ),
        "GSM-Symbolic P1 regenerated from the P1 templates (default 5,000), split at the last sentence.",
    ),
    "stateful-gsm8k": (
        GsmOptions,
        lambda d, c, o: load_gsm8k(d, splitter=o.splitter),
        "GSM8K test (1,319), split at the last sentence.",
    ),
    "stateful-aime-2024": (
        AimeOptions,
        lambda d, c, o: load_aime(d, (2024,), splitter=o.splitter, strip_figures_code=o.strip_figures),
        "AIME 2024 I+II (30), split at the last asking statement.",
    ),
    "stateful-aime-2025": (
        AimeOptions,
        lambda d, c, o: load_aime(d, (2025,), splitter=o.splitter, strip_figures_code=o.strip_figures),
        "AIME 2025 I+II (30), split at the last asking statement.",
    ),
    "stateful-aime": (
        AimeOptions,
        lambda d, c, o: load_aime(d, (2024, 2025), splitter=o.splitter, strip_figures_code=o.strip_figures),
        "AIME 2024 and 2025 (60): the paper's Stateful AIME.",
    ),
    "multi-query-gsm-symbolic-p2": (
        MultiQueryOptions,
        lambda d, c, o: _multi_query(d, c, "p2", o),
        "P2 contexts (default 500) with several verified questions each.",
    ),
    "multi-query-gsm-symbolic-p1": (
        MultiQueryOptions,
        lambda d, c, o: _multi_query(d, c, "p1", o),
        "P1 contexts (default 1,000) with several verified questions each.",
    ),
    "swe-features": (
        SweOptions,
        lambda d, c, o: load_swe_features(o.path),
        "SWE-Features tasks from a JSONL (path=...), else one bundled example task.",
    ),
}

DATASETS: tuple[str, ...] = tuple(_LOADERS)
DESCRIPTIONS: dict[str, str] = {name: entry[2] for name, entry in _LOADERS.items()}


def _multi_query(data_dir: Path, cache_dir: Path, variant: str, o: MultiQueryOptions) -> list[Example]:
    return load_multi_query(
        data_dir,
        variant,
        cache_dir=cache_dir,
        contexts_per_template=o.contexts_per_template,
        splitter=o.splitter,
        max_derived=o.max_derived,
        max_variants=o.max_variants,
        generated_model=o.generated_model,
        generated_n=o.generated_n,
        generation_seed=o.generation_seed,
        llm_complete=o.llm_complete,
    )


def subset(examples: list[Example], limit: int | None, seed: int = 0) -> list[Example]:
    """``limit`` examples picked by a seeded shuffle, kept in their original order
    (a spread over templates; the same for the same seed). None keeps all."""
    if limit is None or limit >= len(examples):
        return list(examples)
    if limit < 0:
        raise InvalidInputError(f"limit must be >= 0, not {limit}")
    return [examples[i] for i in sorted(shuffled_indices(len(examples), seed)[:limit])]


def shuffled_indices(n: int, seed: int) -> list[int]:
    """The seeded order ``subset`` draws from: its first ``limit`` indices are the subset."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order


def _options(model: type[_Options], name: str, options: dict[str, Any]) -> Any:
    try:
        return model(**options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        allowed = ", ".join(model.model_fields)
        raise InvalidInputError(
            f"bad options for dataset {name!r}: {problems}", hint=f"options: {allowed}"
        ) from None


def load_dataset(
    name: str,
    *,
    data_dir: Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    cache_dir: Path | None = None,
    **options: Any,
) -> list[Example]:
    """The examples of dataset ``name`` (see ``DATASETS``, or ``hub:OWNER/NAME``).

    ``limit`` takes a seeded, order-preserving subset (``subset``); ``options``
    are the dataset's own (``splitter="naive"``, ``strip_figures=True``, ...),
    checked by name and type.
    """
    if name.startswith(HUB_PREFIX):
        hub = _options(HubOptions, name, options)
        return subset(load_hub(name[len(HUB_PREFIX) :], **hub.model_dump()), limit, seed)
    if name not in _LOADERS:
        raise InvalidInputError(
            f"unknown dataset {name!r}", hint=f"choose from {', '.join(DATASETS)} or hub:OWNER/NAME"
        )
    model, loader, _ = _LOADERS[name]
    parsed = _options(model, name, options)
    data = Path(data_dir) if data_dir is not None else default_data_dir()
    check_dataset(name, data)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return subset(loader(data, cache, parsed), limit, seed)


__all__ = [
    "DATASETS",
    "DESCRIPTIONS",
    "QA",
    "SOURCES",
    "Example",
    "check_dataset",
    "default_cache_dir",
    "default_data_dir",
    "file_f1",
    "load_dataset",
    "shuffled_indices",
    "subset",
]
