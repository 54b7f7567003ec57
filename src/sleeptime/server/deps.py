"""What a route needs from the app, as FastAPI dependencies (set up by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from ..engine import Engine
from ..scheduler import Scheduler
from ..settings import Settings


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def scheduler_of(request: Request) -> Scheduler:
    scheduler: Scheduler = request.app.state.scheduler
    return scheduler


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


EngineDep = Annotated[Engine, Depends(engine_of)]
SchedulerDep = Annotated[Scheduler, Depends(scheduler_of)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
ContextId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="A context id, as returned by POST /contexts.")
]
