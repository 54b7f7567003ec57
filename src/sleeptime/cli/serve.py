"""``sleeptime serve`` and ``sleeptime keys create|list|revoke``."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..engine import Engine
from ..errors import ConfigurationError
from ..settings import load_settings
from ..store import SQLStore
from ..store.keys import KeyStore
from .app import app, console, err_console, state_of
from .options import JsonOpt

if TYPE_CHECKING:
    from ..scheduler import Scheduler

LOG_LEVELS = ("debug", "info", "warning", "error")


def _key_store(ctx: typer.Context) -> KeyStore:
    store = state_of(ctx).engine().store
    if not isinstance(store, SQLStore):  # pragma: no cover - the CLI always opens a SQLStore
        raise ConfigurationError("API keys need a SQL store")
    return KeyStore(store.engine)


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 8765).")] = None,
    idle_delay: Annotated[
        float | None, typer.Option(min=0, help="Seconds a context must be idle before it is slept on.")
    ] = None,
    sleep_workers: Annotated[
        int | None, typer.Option(min=0, max=32, help="Sleep worker threads (0: run no sleep jobs here).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print what the scheduler would run now, then exit.")] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve contexts, questions and an OpenAI-compatible endpoint over HTTP; sleep on idle contexts."""
    from ..scheduler import Scheduler
    from ..server import create_app
    from ..server.auth import is_loopback

    if log_level not in LOG_LEVELS:
        raise typer.BadParameter(f"one of {', '.join(LOG_LEVELS)}", param_hint="--log-level")
    state = state_of(ctx)
    settings = load_settings(
        **state.overrides,
        server_host=host,
        server_port=port,
        idle_delay_s=idle_delay,
        sleep_workers=sleep_workers,
    )
    engine = Engine(settings=settings)
    try:
        if dry_run:
            _print_plan(Scheduler(engine, settings, workers=0))
            return
        store = engine.store
        assert isinstance(store, SQLStore)
        if not is_loopback(settings.server_host) and not KeyStore(store.engine).any_active():
            raise ConfigurationError(
                f"refusing to serve on {settings.server_host} without API keys: anyone who can reach it "
                "could read and change every context",
                hint="create a key with `sleeptime keys create --tenant NAME`, or bind to 127.0.0.1",
            )
        import uvicorn

        logging.basicConfig(
            level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
        )
        err_console.print(f"loading {settings.model} ...", highlight=False)
        engine.model.count_tokens("warm up")  # load now, not on the first question
        if engine.sleep_model is not engine.model:
            engine.sleep_model.count_tokens("warm up")
        app_ = create_app(engine, settings)
        uvicorn.run(app_, host=settings.server_host, port=settings.server_port, log_level=log_level)
    finally:
        engine.close()


def _print_plan(scheduler: Scheduler) -> None:
    items = scheduler.plan(at_start=True)  # what starting would queue, too
    if not items:
        console.print("nothing queued: no context is waiting for sleep")
        return
    table = Table("job", "context", "version", "action", "estimated tokens", "why")
    for item in items:
        table.add_row(
            item.job.id,
            item.job.context_id,
            str(item.job.version),
            item.action,
            "" if item.estimated_tokens is None else f"{item.estimated_tokens:,}",
            item.reason,
        )
    console.print(table)


keys_app = typer.Typer(help="Manage the HTTP server's API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option(help="The tenant whose contexts the key reaches.")],
    name: Annotated[str, typer.Option(help="A label, e.g. the app using the key.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create an API key for a tenant and print it: it is shown this once, only its hash is stored."""
    record, key = _key_store(ctx).create_key(tenant, name)
    if as_json:
        console.print_json(
            json.dumps({"id": record.id, "tenant": record.tenant, "name": record.name, "key": key})
        )
        return
    console.print(key, highlight=False, markup=False, soft_wrap=True)
    err_console.print(
        f"[dim]key {record.id} for tenant {record.tenant}; store it now, it is not shown again[/]"
    )


QuotaOption = Annotated[int | None, typer.Option(min=0, help="0 removes the limit.")]


@keys_app.command("quota")
def keys_quota(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option(help="The tenant whose keys share the quota.")],
    requests_per_minute: QuotaOption = None,
    sleep_tokens_per_hour: QuotaOption = None,
    sleep_tokens_per_day: QuotaOption = None,
    max_ask_tokens: QuotaOption = None,
    max_sleep_tokens: QuotaOption = None,
    clear: Annotated[bool, typer.Option(help="Remove every limit of the tenant.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show or set a tenant's quota, which every key of the tenant shares (docs/server.md)."""
    from ..store.quotas import NO_QUOTA, QuotaStore

    store = QuotaStore(_key_store(ctx).engine)
    given = {
        "requests_per_minute": requests_per_minute,
        "sleep_tokens_per_hour": sleep_tokens_per_hour,
        "sleep_tokens_per_day": sleep_tokens_per_day,
        "max_ask_tokens": max_ask_tokens,
        "max_sleep_tokens": max_sleep_tokens,
    }
    quota = NO_QUOTA if clear else store.get(tenant)
    changes = {name: (value or None) for name, value in given.items() if value is not None}
    if clear or changes:
        quota = store.set(tenant, replace(quota, **changes))
    if as_json:
        console.print_json(json.dumps({"tenant": tenant, **quota.to_dict()}))
        return
    for name, value in quota.to_dict().items():
        console.print(f"{name}: {'no limit' if value is None else f'{value:,}'}", highlight=False)


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List API keys (ids, tenants, names; never the keys)."""
    keys = _key_store(ctx).list_keys(tenant=tenant, include_revoked=all_)
    if as_json:
        rows = [
            {
                "id": k.id,
                "tenant": k.tenant,
                "name": k.name,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in keys
        ]
        console.print_json(json.dumps(rows))
        return
    table = Table("id", "tenant", "name", "created", "revoked")
    for k in keys:
        revoked = k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else ""
        table.add_row(k.id, k.tenant, k.name, k.created_at.strftime("%Y-%m-%d %H:%M"), revoked)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")]
) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    record = _key_store(ctx).revoke(key_id)
    console.print(f"revoked key {record.id} of tenant {record.tenant}")
