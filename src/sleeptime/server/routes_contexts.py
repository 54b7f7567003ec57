"""``/contexts``: create, read, list, replace, append, delete; ask, sleep, learned contexts,
runs, queries and jobs of one context. Every route acts for the key's tenant:
another tenant's context answers 404, like a missing one."""

from __future__ import annotations

import difflib
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..context import Context
from ..engine import Engine
from ..errors import InvalidInputError
from ..learned import LearnedContext
from ..scheduler import PlanItem, Scheduler
from ..settings import Settings
from ..store.base import SleepRun
from . import latency, quotas
from .auth import Tenant
from .deps import ContextId, EngineDep, SchedulerDep, SettingsDep
from .errors import PayloadTooLargeError
from .schemas import (
    MAX_OFFSET,
    AnswerOut,
    AskRequest,
    ContextAppend,
    ContextCreate,
    ContextOut,
    ContextPage,
    ContextReplace,
    JobList,
    JobOut,
    QueryOut,
    QueryPage,
    SleepRequest,
)
from .schemas_runs import ChangeOut, LearnedList, LearnedOut, PlanItemOut, PlanOut, RunOut, SleepOut

router = APIRouter(tags=["contexts"])

Limit = Annotated[int, Query(ge=1, le=500, description="Most items to return.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def check_size(text: str, settings: Settings) -> None:
    if len(text) > settings.max_context_chars:
        raise PayloadTooLargeError(
            f"the context text has {len(text):,} characters; this server accepts at most "
            f"{settings.max_context_chars:,}",
            hint="split the document into several contexts, or raise max_context_chars",
        )


@router.post("/contexts", status_code=201, summary="Create a context")
def create_context(
    body: ContextCreate, tenant: Tenant, engine: EngineDep, scheduler: SchedulerDep, settings: SettingsDep
) -> ContextOut:
    """Store a new context (version 1). It is slept on once idle for the server's idle delay."""
    check_size(body.text, settings)
    context = engine.add_context(body.text, body.metadata, tenant=tenant)
    job = scheduler.context_created(context)
    return ContextOut.of(context, sleep_job=JobOut.of(job) if job else None)


@router.get("/contexts", summary="List contexts")
def list_contexts(
    tenant: Tenant, engine: EngineDep, scheduler: SchedulerDep, limit: Limit = 50, offset: Offset = 0
) -> ContextPage:
    """The tenant's contexts, oldest first, without their text; each with its learned context and job."""
    found = engine.list_contexts(tenant=tenant, limit=limit + 1, offset=offset)
    return ContextPage(
        data=[_listed(c, engine, scheduler, tenant) for c in found[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(found) > limit else None,
    )


def _listed(context: Context, engine: Engine, scheduler: Scheduler, tenant: str | None) -> ContextOut:
    learned = engine.learned_context(context.id, tenant=tenant)
    return _context_out(context, learned, scheduler, text=False)


def _context_out(
    context: Context, learned: LearnedContext | None, scheduler: Scheduler, *, text: bool = True
) -> ContextOut:
    """The context with its current learned context and its queued or running sleep job."""
    jobs = scheduler.jobs.list_jobs(context_id=context.id, statuses=("queued", "running"), limit=1)
    return ContextOut.of(
        context,
        text=text,
        learned_context_id=learned.id if learned is not None else None,
        sleep_job=JobOut.of(jobs[0]) if jobs else None,
    )


@router.get("/contexts/{context_id}", summary="Read a context")
def get_context(
    context_id: ContextId,
    tenant: Tenant,
    engine: EngineDep,
    scheduler: SchedulerDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="A past version.")] = None,
) -> ContextOut:
    """The context's text (current or a past version), its current learned context and sleep job."""
    context = engine.get_context(context_id, version=version, tenant=tenant)
    return _context_out(context, engine.learned_context(context_id, tenant=tenant), scheduler)


@router.put("/contexts/{context_id}", summary="Replace a context's text")
def replace_context(
    context_id: ContextId,
    body: ContextReplace,
    tenant: Tenant,
    engine: EngineDep,
    scheduler: SchedulerDep,
    settings: SettingsDep,
) -> ContextOut:
    """A new version (when the text differs). Runs on the old version stop; the new one is
    slept on once idle. Learned contexts of old versions stay, as history."""
    check_size(body.text, settings)
    before = engine.get_context(context_id, tenant=tenant)
    context = engine.update_context(context_id, body.text, body.metadata, tenant=tenant)
    return _changed(before, context, scheduler)


@router.post("/contexts/{context_id}/append", summary="Append to a context")
def append_context(
    context_id: ContextId,
    body: ContextAppend,
    tenant: Tenant,
    engine: EngineDep,
    scheduler: SchedulerDep,
    settings: SettingsDep,
) -> ContextOut:
    """Add text at the end: a new version, which the next sleep updates incrementally
    (from the previous learned context plus the new part)."""
    before = engine.get_context(context_id, tenant=tenant)
    check_size(before.text + "\n" + body.text, settings)
    context = engine.append_context(context_id, body.text, tenant=tenant)
    return _changed(before, context, scheduler)


def _changed(before: Context, context: Context, scheduler: Scheduler) -> ContextOut:
    job = scheduler.context_changed(context) if context.version != before.version else None
    return ContextOut.of(context, sleep_job=JobOut.of(job) if job else None)


@router.delete("/contexts/{context_id}", status_code=204, summary="Delete a context")
def delete_context(
    context_id: ContextId, tenant: Tenant, engine: EngineDep, scheduler: SchedulerDep
) -> Response:
    """The context with its versions, learned contexts, runs, queries and jobs."""
    engine.delete_context(context_id, tenant=tenant)
    scheduler.context_deleted(context_id)
    return Response(status_code=204)


@router.post("/contexts/{context_id}/ask", summary="Ask a question")
def ask(
    context_id: ContextId,
    body: AskRequest,
    request: Request,
    tenant: Tenant,
    engine: EngineDep,
    scheduler: SchedulerDep,
    settings: SettingsDep,
) -> AnswerOut:
    """``T_b(q, c') -> a``. Never waits for sleep: answered from the newest learned context of
    the current version, else from the raw text; ``source`` says which."""
    engine.get_context(context_id, tenant=tenant)
    budget = body.budget.to_budget() if body.budget is not None else None
    escalate = body.escalate.to_budget() if body.escalate is not None else None
    for given in (budget, escalate):
        check_answer_tokens(given.max_tokens if given else None, settings)
    quota = quotas.quota_of(request)
    quotas.check_ask(quota, tenant, quotas.ask_tokens(engine, budget), "budget")
    if escalate is not None:
        quotas.check_ask(quota, tenant, quotas.ask_tokens(engine, escalate), "escalate")
    with scheduler.gate.query():
        answer = engine.ask(
            context_id, body.question, budget, tenant=tenant, use_learned=not body.baseline, escalate=escalate
        )
    scheduler.context_queried(context_id)
    seen, wait = latency.record(engine, answer.id, latency.received_at(request), answer.latency_s)
    return AnswerOut.of(answer, latency_s=seen, queue_wait_s=wait)


def check_answer_tokens(max_tokens: int | None, settings: Settings) -> None:
    if max_tokens is not None and max_tokens > settings.max_answer_tokens:
        raise InvalidInputError(
            f"max_tokens {max_tokens:,} is over this server's limit of {settings.max_answer_tokens:,}"
        )


@router.post("/contexts/{context_id}/sleep", status_code=202, summary="Sleep on a context now")
def sleep(
    context_id: ContextId,
    body: SleepRequest,
    tenant: Tenant,
    engine: EngineDep,
    scheduler: SchedulerDep,
) -> SleepOut:
    """Queue a run due now (one run per context at a time: it waits for a running one).
    With ``wait`` the answer comes when the run ends; with ``dry_run`` nothing is queued, and
    the plan shows what this request (with the budget it sends) would do and cost."""
    engine.get_context(context_id, tenant=tenant)
    budget = body.budget.model_dump(exclude_none=True) if body.budget is not None else None
    would = scheduler.plan_request(context_id, budget)  # this request, with the budget it sends
    if body.dry_run:
        return SleepOut(job=None, plan=_plan_out(scheduler, [would]))
    if would.estimated_tokens is not None:
        quotas.check_sleep(scheduler.engine_sql, tenant, would.estimated_tokens, scheduler.clock.now())
    job = scheduler.request(context_id, budget)
    if body.wait:
        job = scheduler.wait_for(job.id, body.timeout_s)
    learned = None
    if job.learned_context_id is not None:
        found = engine.get_learned(job.learned_context_id, tenant=tenant)
        current = engine.get_context(context_id, tenant=tenant).version
        learned = LearnedOut.of(found, current=found.context_version == current, runs=[])
    return SleepOut(job=JobOut.of(job), learned=learned)


@router.get("/contexts/{context_id}/learned", summary="Learned contexts and runs")
def learned_contexts(context_id: ContextId, tenant: Tenant, engine: EngineDep) -> LearnedList:
    """Every learned context of the context (current and stale), each with the runs that made
    it and what they changed, and every run (failed and cancelled ones too)."""
    current = engine.get_context(context_id, tenant=tenant).version
    learned = engine.list_learned(context_id, tenant=tenant)
    runs = [RunOut.of(r, changes=_changes(r, learned)) for r in engine.list_runs(context_id, tenant=tenant)]
    data = [
        LearnedOut.of(
            lc, current=lc.context_version == current, runs=[r for r in runs if r.learned_context_id == lc.id]
        )
        for lc in learned
    ]
    return LearnedList(data=data, runs=runs)


def _changes(run: SleepRun, learned: list[LearnedContext]) -> ChangeOut | None:
    """The run's learned context against the one it grew, else the newest one before it."""
    by_id = {lc.id: lc for lc in learned}
    made = by_id.get(run.learned_context_id or "")
    if made is None:
        return None
    previous = by_id.get(made.based_on or "")
    if previous is None:
        older = [
            lc for lc in learned if lc.created_at and made.created_at and lc.created_at < made.created_at
        ]
        previous = older[0] if older else None  # list_learned is newest first
    before = previous.text.splitlines() if previous else []
    after = made.text.splitlines()
    diff = list(difflib.ndiff(before, after))
    return ChangeOut(
        previous_learned_context_id=previous.id if previous else None,
        chars_before=len(previous.text) if previous else 0,
        chars_after=len(made.text),
        lines_added=sum(1 for line in diff if line.startswith("+ ")),
        lines_removed=sum(1 for line in diff if line.startswith("- ")),
    )


@router.get("/contexts/{context_id}/queries", summary="Queries and answers")
def queries(
    context_id: ContextId, tenant: Tenant, engine: EngineDep, limit: Limit = 50, offset: Offset = 0
) -> QueryPage:
    """Questions asked about the context with their answers and usage, newest first."""
    found = engine.list_queries(context_id, tenant=tenant, limit=limit + 1, offset=offset)
    return QueryPage(
        data=[QueryOut.of(q) for q in found[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(found) > limit else None,
    )


@router.get("/contexts/{context_id}/jobs", summary="Sleep jobs")
def jobs(context_id: ContextId, tenant: Tenant, engine: EngineDep, scheduler: SchedulerDep) -> JobList:
    """The context's sleep jobs, newest first: status, attempts, last error."""
    engine.get_context(context_id, tenant=tenant)
    return JobList(data=[JobOut.of(j) for j in scheduler.jobs.list_jobs(context_id=context_id)])


@router.get("/scheduler/plan", tags=["scheduler"], summary="Dry run of the scheduler")
def plan(tenant: Tenant, scheduler: SchedulerDep) -> PlanOut:
    """What would run now, what waits (idle delay, a running job) and what a budget blocks."""
    return _plan_out(scheduler, scheduler.plan(tenant=tenant))


def _plan_out(scheduler: Scheduler, items: list[PlanItem]) -> PlanOut:
    out = [
        PlanItemOut(
            job=JobOut.of(i.job), action=i.action, reason=i.reason, estimated_tokens=i.estimated_tokens
        )
        for i in items
    ]
    return PlanOut(now=scheduler.clock.now(), items=out)
