"""``sleeptime data``: the benchmark datasets, where their files come from and where they are found.

``sleeptime data`` (or ``data list``) shows each dataset with the sources it reads,
their licences and whether the data dir has them; ``sleeptime data fetch NAME``
downloads a source from the Hugging Face Hub (the ``hf`` extra). The data dir is
``--data-dir``, else ``$SLEEPTIME_DATA_DIR``, else ``../shared/data`` next to the
repository (``sleeptime.bench.datasets.paths``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..bench.datasets import DATASETS, DESCRIPTIONS, default_data_dir
from ..bench.datasets.paths import DATA_DIR_ENV
from ..bench.datasets.sources import NEEDS, SOURCES, fetch, missing_files
from .app import app, console

data_app = typer.Typer(
    name="data",
    help="The benchmark datasets: their sources, licences and where they are found; fetch them.",
    invoke_without_command=True,
)
app.add_typer(data_app, name="data")

DataDirOpt = Annotated[
    Path | None,
    typer.Option(help=f"Benchmark data dir (default: ${DATA_DIR_ENV}, else ../shared/data)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _data_dir(given: Path | None) -> Path:
    return given if given is not None else default_data_dir()


def inventory(data_dir: Path) -> dict[str, Any]:
    """Every source (with what is missing) and every dataset (with whether it can run)."""
    sources = {
        name: {
            "title": s.title,
            "origin": s.origin,
            "licence": s.licence,
            "path": str(data_dir / name),
            "missing": missing_files(s, data_dir),
            "fetch": "sleeptime data fetch " + name if s.hub else None,
            "fetch_note": s.fetch_note or None,
            "terms": s.terms or None,
        }
        for name, s in SOURCES.items()
    }
    datasets = {
        name: {
            "description": DESCRIPTIONS[name],
            "sources": list(NEEDS.get(name, ())),
            "ready": all(not sources[s]["missing"] for s in NEEDS.get(name, ())),
        }
        for name in DATASETS
    }
    return {"data_dir": str(data_dir), "exists": data_dir.is_dir(), "sources": sources, "datasets": datasets}


def _print(info: dict[str, Any]) -> None:
    where = info["data_dir"] + ("" if info["exists"] else " (does not exist)")
    console.print(f"data dir: {escape(where)}  (--data-dir, or ${DATA_DIR_ENV})", highlight=False)
    datasets = Table("dataset", "ready", "reads", title="Datasets (sleeptime bench ... --dataset NAME)")
    for name, d in info["datasets"].items():
        reads = ", ".join(d["sources"]) or "bundled with sleeptime"
        datasets.add_row(name, "[green]yes[/]" if d["ready"] else "[red]no[/]", escape(reads))
    console.print(datasets)
    sources = Table("source", "found", "licence", title="Sources (folders of the data dir)")
    for name, s in info["sources"].items():
        found = "[green]yes[/]" if not s["missing"] else "[red]missing[/] " + escape(", ".join(s["missing"]))
        sources.add_row(name, found, escape(s["licence"]))
    console.print(sources)
    for name, s in info["sources"].items():
        lines = [f"{name}: {s['title']}", f"  in {s['path']}", f"  from {s['origin']}"]
        if s["terms"]:
            lines.append(f"  licence: {s['licence']}; {s['terms']}")
        if s["missing"]:
            how = [f"`{s['fetch']}`"] if s["fetch"] else []
            how += [s["fetch_note"]] if s["fetch_note"] else []
            lines.append("  to get it: " + "; ".join(how))
        console.print("\n".join(lines), highlight=False, soft_wrap=True, markup=False)
    console.print("Also: hub:OWNER/NAME loads a stateful dataset from the Hugging Face Hub.", highlight=False)


@data_app.callback()
def data_group(ctx: typer.Context, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List the datasets, the files each reads, their licences and where they are found."""
    if ctx.invoked_subcommand is None:
        list_command(data_dir, as_json)


@data_app.command("list")
def list_command(data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List the datasets, the files each reads, their licences and where they are found."""
    info = inventory(_data_dir(data_dir))
    if as_json:
        console.print_json(json.dumps(info))
    else:
        _print(info)


@data_app.command("fetch")
def fetch_command(
    name: Annotated[str, typer.Argument(help=f"A source: {', '.join(SOURCES)}.")],
    data_dir: DataDirOpt = None,
) -> None:
    """Download a source from the Hugging Face Hub into the data dir (needs the hf extra)."""
    target = _data_dir(data_dir)
    written = fetch(name, target)
    for path in written:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    note = SOURCES[name].fetch_note
    if note:
        console.print(f"not fetched: {note}", highlight=False, soft_wrap=True)


__all__ = ["data_app", "inventory"]
