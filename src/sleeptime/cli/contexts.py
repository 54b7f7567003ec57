"""``sleeptime context add|list|show|update|rm``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..errors import InvalidInputError
from .app import app, console, state_of
from .options import ContextIdArg, JsonOpt
from .render import context_dict, learned_summary
from .waiting import load_model

context_app = typer.Typer(help="Register and manage contexts.", no_args_is_help=True)
app.add_typer(context_app, name="context")


def read_text(text: str | None, file: Path | None) -> str:
    """TEXT, or the file's content, or stdin when TEXT is '-'."""
    if file is not None:
        if text is not None:
            raise InvalidInputError(
                "give the text or --file, not both", hint="drop TEXT to read --file, or drop --file"
            )
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"cannot read {file}: {exc}", hint="--file takes a readable UTF-8 text file"
            ) from None
    if text == "-" or (text is None and not sys.stdin.isatty()):
        return sys.stdin.read()
    if text is None:
        raise InvalidInputError("no text given", hint="pass TEXT, --file PATH, or pipe text with '-'")
    return text


def parse_meta(pairs: list[str] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"metadata {pair!r} is not KEY=VALUE", hint="pass --meta KEY=VALUE")
        meta[key] = value
    return meta


TextArg = Annotated[str | None, typer.Argument(help="The context's text ('-' reads stdin).")]
FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="Read the text from a file.")]
TruncateOpt = Annotated[bool, typer.Option(help="Cut a text too long for the model instead of refusing it.")]


@context_app.command("add")
def add(
    ctx: typer.Context,
    text: TextArg = None,
    file: FileOpt = None,
    meta: Annotated[list[str] | None, typer.Option("--meta", help="Metadata KEY=VALUE (repeatable).")] = None,
    truncate: TruncateOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Register a new context; prints its id."""
    body, metadata = read_text(text, file), parse_meta(meta)
    engine = state_of(ctx).engine()
    load_model(engine)  # the text is measured against the model's window
    context = engine.add_context(body, metadata, truncate=truncate)
    if as_json:
        console.print_json(json.dumps(context_dict(context)))
    else:
        console.print(context.id)


@context_app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most contexts to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List contexts, oldest first."""
    engine = state_of(ctx).engine()
    contexts = engine.list_contexts(limit=limit, offset=offset)
    if as_json:
        console.print_json(json.dumps([context_dict(c, text=False) for c in contexts]))
        return
    table = Table("id", "version", "chars", "start of text", "learned")
    for c in contexts:
        learned = engine.learned_context(c.id)
        preview = c.text[:60].replace("\n", " ") + ("…" if len(c.text) > 60 else "")
        table.add_row(c.id, str(c.version), f"{len(c.text):,}", preview, "yes" if learned else "no")
    console.print(table)


@context_app.command("show")
def show(
    ctx: typer.Context,
    context_id: ContextIdArg,
    version: Annotated[int | None, typer.Option(min=1, help="An older version.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a context, its learned contexts and its sleep runs."""
    engine = state_of(ctx).engine()
    context = engine.get_context(context_id, version=version)
    learned = engine.list_learned(context.id)
    if as_json:
        data = context_dict(context)
        data["learned_contexts"] = [learned_summary(item, with_text=True) for item in learned]
        console.print_json(json.dumps(data))
        return
    console.print(f"[bold]{context.id}[/] version {context.version}  metadata {json.dumps(context.metadata)}")
    console.print(context.text, highlight=False, markup=False)
    for item in learned:
        current = "current" if item.context_version == context.version else "stale"
        console.rule(
            f"learned {item.id} (v{item.context_version}, {current}, {item.usage.completion_tokens} tokens, "
            f"{item.duration_s:.1f}s, {item.model})"
        )
        console.print(item.text, highlight=False, markup=False)


@context_app.command("update")
def update(
    ctx: typer.Context,
    context_id: ContextIdArg,
    text: TextArg = None,
    file: FileOpt = None,
    append: Annotated[bool, typer.Option(help="Append the text instead of replacing.")] = False,
    truncate: TruncateOpt = False,
) -> None:
    """Replace (or --append to) a context's text: a new version."""
    body = read_text(text, file)
    engine = state_of(ctx).engine()
    load_model(engine)  # the text is measured against the model's window
    if append:
        context = engine.append_context(context_id, body, truncate=truncate)
    else:
        context = engine.update_context(context_id, body, truncate=truncate)
    console.print(f"{context.id} is now at version {context.version}")


@context_app.command("rm")
def remove(
    ctx: typer.Context,
    context_ids: Annotated[list[str], typer.Argument(help="Context ids.")],
) -> None:
    """Delete contexts with their versions, learned contexts and queries."""
    engine = state_of(ctx).engine()
    for context_id in context_ids:
        engine.delete_context(context_id)
        console.print(f"deleted {context_id}")
