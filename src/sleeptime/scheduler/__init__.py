"""Sleep when contexts are idle: a durable job queue in the database and worker threads.

    scheduler = Scheduler(engine)          # jobs in engine's SQL store
    scheduler.start()                      # worker threads (settings.sleep_workers)
    scheduler.context_changed(ctx)         # debounce: due after settings.idle_delay_s
    scheduler.request(ctx.id)              # due now (POST /contexts/{id}/sleep)
    scheduler.plan()                       # dry run: what would run, and why not
    scheduler.stop()

Several processes may share one PostgreSQL database: each claims jobs with a
lease, so a job runs in one of them at a time and a dead one's job is retried.
A Ray-based scheduler is out of scope for now (docs/server.md).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

from ..budget import Budget
from ..context import Context
from ..engine import Engine
from ..errors import ConfigurationError, SleeptimeError
from ..settings import Settings
from ..store import SQLStore
from ..store.enqueue import JobReason
from ..store.jobs import FINISHED, Job, JobStore
from ..store.liveness import Beacon
from . import policy
from .clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock
from .worker import QueryGate, Running, Worker

log = logging.getLogger(__name__)

HOST = socket.gethostname().replace(":", "_")

PlanAction = Literal["run", "wait", "blocked", "running"]
# Why a queued job is not due yet, by the reason it was queued for.
WAIT_REASONS = {"created": "idle delay", "changed": "idle delay", "retry": "retry backoff"}


@dataclass(frozen=True)
class PlanItem:
    """What the scheduler would do with one job now (a dry run)."""

    job: Job
    action: PlanAction
    reason: str
    estimated_tokens: int | None = None


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        workers: int | None = None,
    ) -> None:
        if not isinstance(engine.store, SQLStore):
            raise ConfigurationError("the scheduler needs a SQL store (SQLite or PostgreSQL)")
        self.engine = engine
        self.settings = settings or engine.settings
        self.clock = clock
        self.engine_sql = engine.store.engine
        self.jobs = JobStore(self.engine_sql)
        self.limits = policy.TokenLimits.from_settings(self.settings)
        self.gate = QueryGate()
        self.stopping = threading.Event()
        self.wake = threading.Event()
        # PostgreSQL: a liveness lock, so that other hosts see at once when this process dies.
        self.beacon = Beacon(self.engine_sql, f"{HOST}:{os.getpid()}:{secrets.token_hex(3)}")
        self.owner_prefix = self.beacon.prefix
        self.n_workers = self.settings.sleep_workers if workers is None else workers
        self._workers: list[Worker] = []
        self._manual: Worker | None = None
        self._running: dict[str, Running] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition()

    # --- what the server tells the scheduler

    def context_created(self, context: Context) -> Job | None:
        """Its job (queued by the outbox row the store wrote with the context), due after the idle delay."""
        return self.relay(context.id)

    def context_changed(self, context: Context) -> Job | None:
        """A new version: runs on older versions stop; the new one is due after the idle delay."""
        self._stop_runs(context.id, "changed", keep_version=context.version)
        return self.relay(context.id)

    def context_queried(self, context_id: str) -> None:
        self._touch(context_id, "queried")

    def context_deleted(self, context_id: str) -> None:
        self._stop_runs(context_id, "deleted")

    def request(self, context_id: str, budget: Budget | dict[str, Any] | None = None) -> Job:
        """Sleep on the context now (its queued job becomes due at once)."""
        given = None if budget is None else Budget.parse(budget).model_dump(exclude_none=True)
        now = self.clock.now()
        job = self.jobs.touch(
            context_id,
            now=now,
            due_at=now,
            reason="requested",
            budget=given,
            max_attempts=self.settings.job_max_attempts,
        )
        assert job is not None
        self.wake.set()
        return job

    def relay(self, context_id: str | None = None) -> Job | None:
        """Queue the jobs of the edits in the outbox (all, or ``context_id``'s; ``store/outbox.py``).

        Returns ``context_id``'s queued job, if it has one. A failure here loses nothing: the
        edit and its outbox row are stored together, and the next relay (a worker's next
        poll, or the next start) queues the job.
        """
        now = self.clock.now()
        try:
            jobs = self.jobs.relay(
                now=now,
                due_at=policy.due_at(now, self.settings.idle_delay_s),
                max_attempts=self.settings.job_max_attempts,
                context_id=context_id,
            )
            if jobs and self.settings.idle_delay_s == 0:
                self.wake.set()
            if context_id is None or jobs:
                return jobs[0] if jobs else None
            queued = self.jobs.list_jobs(context_id=context_id, statuses=("queued",), limit=1)
            return queued[0] if queued else None  # relayed meanwhile, e.g. by a worker's poll
        except SleeptimeError as exc:
            log.warning("could not queue sleep jobs from the outbox: %s", exc.message)
            return None

    def _touch(self, context_id: str, reason: JobReason) -> Job | None:
        now = self.clock.now()
        try:
            job = self.jobs.touch(
                context_id,
                now=now,
                due_at=policy.due_at(now, self.settings.idle_delay_s),
                reason=reason,
                max_attempts=self.settings.job_max_attempts,
            )
        except SleeptimeError as exc:  # the edit itself is stored; the next touch queues the job
            log.warning("could not queue a sleep job for context %s: %s", context_id, exc.message)
            return None
        if self.settings.idle_delay_s == 0:
            self.wake.set()
        return job

    def _stop_runs(self, context_id: str, reason: Any, *, keep_version: int | None = None) -> None:
        with self._lock:
            for running in self._running.values():
                if running.context_id == context_id and running.version != keep_version:
                    running.stop(reason)

    # --- running jobs

    def start(self) -> None:
        """Recover after a crash, then start the worker threads."""
        self.stopping.clear()
        self.beacon.start()
        now = self.clock.now()
        released = self.jobs.release_dead_owners(f"{HOST}:", _owner_is_dead, now=now)
        released += self.reap()
        pending = len(self.jobs.pending(limit=10_000))
        self.relay()
        if released or pending:
            log.info(
                "recovered: %d job(s) of stopped processes, %d edit(s) not yet queued", released, pending
            )
        for index in range(self.n_workers):
            worker = Worker(self, index)
            worker.start()
            self._workers.append(worker)

    def reap(self) -> int:
        """On PostgreSQL, retry at once the jobs of processes that died (on any host)."""
        if not self.beacon.enabled:
            return 0
        return self.jobs.release_dead_owners("", self.beacon.is_dead, now=self.clock.now())

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the workers; a run in progress is cancelled and queued again (no attempt counted)."""
        self.stopping.set()
        self.wake.set()
        with self._lock:
            for running in self._running.values():
                running.stop("shutdown")
        for worker in self._workers:
            if worker.thread is not None:
                worker.thread.join(timeout=timeout_s)
        self._workers.clear()
        self.beacon.stop()

    def run_once(self) -> bool:
        """Claim and run one due job in the calling thread (tests, and a server with no workers)."""
        self.beacon.start()  # a lease this process takes is held by a live process
        if self._manual is None:
            self._manual = Worker(self, len(self._workers) + 100)
        return self._manual.run_once()

    def register(self, running: Running) -> None:
        with self._lock:
            self._running[running.job.id] = running

    def unregister(self, running: Running) -> None:
        with self._lock:
            self._running.pop(running.job.id, None)

    def job_changed(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, job_id: str, timeout_s: float) -> Job:
        """The job once finished, or as it stands after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.jobs.get(job_id)
            left = deadline - time.monotonic()
            if job.status in FINISHED or left <= 0:
                return job
            with self._changed:
                self._changed.wait(min(0.2, left))

    # --- dry run

    def plan(self, *, tenant: str | None = None, limit: int = 100, at_start: bool = False) -> list[PlanItem]:
        """What would run now and what waits (for its idle delay, a running job, or a budget).

        ``at_start``: also the jobs ``start`` would queue for edits still in the outbox (made
        with the CLI, or before a crash; ``sleeptime serve --dry-run`` shows them).
        """
        now = self.clock.now()
        items = [
            PlanItem(job, "running", f"running since attempt {job.attempts}, lease held by {job.lease_owner}")
            for job in self.jobs.list_jobs(tenant=tenant, statuses=("running",), limit=limit)
        ]
        busy = {item.job.context_id for item in items}
        for job in self.jobs.list_jobs(tenant=tenant, statuses=("queued",), limit=limit):
            items.append(self._plan_one(job, now, busy))
        if at_start:
            due = policy.due_at(now, self.settings.idle_delay_s)
            for context_id, owner, version in self.jobs.pending(limit=limit):
                if tenant is None or owner == tenant:
                    new = self._unqueued(context_id, owner, version, due, "created")
                    item = self._plan_one(new, now, busy)
                    items.append(replace(item, reason=f"queued at start (edited, no job yet); {item.reason}"))
        return items

    def plan_request(self, context_id: str, budget: Budget | dict[str, Any] | None = None) -> PlanItem:
        """What ``request(context_id, budget)`` would do now and cost, queueing nothing."""
        now = self.clock.now()
        given = None if budget is None else Budget.parse(budget).model_dump(exclude_none=True)
        context = self.engine.store.get_context(context_id)
        queued = next(iter(self.jobs.list_jobs(context_id=context_id, statuses=("queued",), limit=1)), None)
        running = self.jobs.list_jobs(context_id=context_id, statuses=("running",), limit=1)
        job = replace(
            queued or self._unqueued(context_id, context.tenant, context.version, now, "requested"),
            due_at=now,
            reason="requested",
            version=context.version,
        )
        if given is not None:
            job = replace(job, budget=given)
        return self._plan_one(job, now, {context_id} if running else set())

    def _unqueued(self, context_id: str, tenant: str, version: int, due: Any, reason: JobReason) -> Job:
        """The job that would be queued (a dry run's: it has no id)."""
        return Job("", context_id, tenant, version, reason, "queued", due, 0, self.settings.job_max_attempts)

    def _plan_one(self, job: Job, now: Any, busy: set[str]) -> PlanItem:
        try:
            context = self.engine.get_context(job.context_id)
            resolved = self.engine.resolve_sleep_budget(job.budget)
            estimate = policy.estimate_sleep_tokens(self.engine.sleep_model, context.text, resolved)
        except SleeptimeError as exc:
            return PlanItem(job, "blocked", exc.message)
        now = max(now, self.clock.now())  # counting tokens took time: times are as of the answer
        if job.context_id in busy:
            return PlanItem(job, "wait", "another job of this context is running", estimate)
        check = policy.check_budgets(
            self.engine_sql, self.limits, job.context_id, estimate, now, tenant=job.tenant
        )
        if not check.ok:
            return PlanItem(job, "blocked", check.reason, estimate)
        if job.due_at > now:
            wait = (job.due_at - now).total_seconds()
            why = WAIT_REASONS.get(job.reason, job.reason)
            return PlanItem(job, "wait", f"due in {wait:.0f}s ({why})", estimate)
        late = (now - job.due_at).total_seconds()
        when = f"due {late:.0f}s ago" if late >= 1 else "due now"
        return PlanItem(
            job, "run", f"{when}: sleep on version {context.version} at the next free worker", estimate
        )


def _owner_is_dead(owner: str) -> bool:
    """Whether the process named in a lease owner (``host:pid:...``) on this host is gone."""
    try:
        pid = int(owner.split(":")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


__all__ = ["Clock", "FakeClock", "PlanItem", "QueryGate", "Scheduler", "SystemClock"]
