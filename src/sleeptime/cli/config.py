"""``sleeptime config show`` and ``sleeptime config path``: what every setting is, and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel, SecretStr
from rich.table import Table
from rich.text import Text

from ..settings import config_path, explain_settings
from .app import app, console, state_of
from .options import JsonOpt

config_app = typer.Typer(help="Show the settings and where each comes from.", no_args_is_help=True)
app.add_typer(config_app, name="config")


def plain_value(value: Any) -> Any:
    """A setting's value for JSON: secrets masked, paths and budgets spelled out."""
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, Path):
        return str(value)
    return value


def shown(value: Any) -> str:
    value = plain_value(value)
    if value is None:
        return "-"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


@config_app.command("show")
def config_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every setting with its value and its source: default, file (config.toml), env or flag."""
    state = state_of(ctx)
    rows = explain_settings(state.overrides)
    settings = state.settings
    effective = {"db_url": settings.database_url, "models_dir": str(settings.model_cache_dir)}
    if as_json:
        data = [
            {
                "name": r.name,
                "value": plain_value(r.value),
                "effective": effective.get(r.name, plain_value(r.value)),
                "source": r.source,
                "env": r.env,
                "description": r.description,
            }
            for r in rows
        ]
        console.print_json(json.dumps(data))
        return
    table = Table("setting", "value", "source", title=f"config file: {config_path(settings.home)}")
    for r in rows:
        value = shown(r.value)
        if r.value is None and r.name in effective:
            value = effective[r.name]
        table.add_row(r.name, Text(value), r.source)
    console.print(table)
    console.print(
        Text("environment: SLEEPTIME_<SETTING> (budgets: SLEEPTIME_SLEEP_BUDGET__ROUNDS etc.)", style="dim")
    )


@config_app.command("path")
def config_path_command(ctx: typer.Context) -> None:
    """Print where the config file is read from (it need not exist)."""
    console.print(Text(str(config_path(state_of(ctx).settings.home))), soft_wrap=True)
