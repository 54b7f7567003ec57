"""Worker threads: claim a due job, run ``Engine.sleep`` on it, record what happened.

While a job runs, a heartbeat renews its lease and watches the context: a new
version (or a deletion) sets the run's cancel event, and the sleep stops before
its next model call. Outcomes:

- done: the learned context is stored (``finish_run``, one transaction); if the
  context changed at the last moment it is kept as history of its version only;
- cancelled: the context changed or was deleted; the newer version has its own job;
- failed: a non-retryable error, or ``max_attempts`` reached (the hard stop);
- queued again: a retryable error (backoff), a budget that is spent (until the
  window has room), or the server stopping (no attempt counted).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ..budget import Budget
from ..engine import Engine
from ..errors import InvalidInputError, NotFoundError, SleepCancelled, SleeptimeError, StoreError
from ..llm.base import LLM, Completion, DelegatingModel, Message, SamplingParams
from ..llm.priority import yields_to_queries
from ..store import SleepRun
from ..store.jobs import Job, gave_up
from . import policy

if TYPE_CHECKING:
    from . import Scheduler

log = logging.getLogger(__name__)

CancelReason = Literal["changed", "deleted", "lease", "shutdown"]


class QueryGate:
    """Counts queries in flight, so that sleep calls on the same model let them go first."""

    def __init__(self) -> None:
        self._count = 0
        self._cond = threading.Condition()

    @contextmanager
    def query(self) -> Iterator[None]:
        with self._cond:
            self._count += 1
        try:
            yield
        finally:
            with self._cond:
                self._count -= 1
                self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        return self._count

    def wait_clear(self, timeout_s: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._count == 0, timeout=timeout_s)


class GatedLLM(DelegatingModel):
    """The sleep model as one worker sees it: before each call it waits for queries in
    flight (when one model both answers and sleeps) and stops at the run's cancel event.
    What the calls spend is the engine's to record (``Engine.sleep``)."""

    def __init__(self, inner: LLM, *, gate: QueryGate | None, gate_wait_s: float) -> None:
        super().__init__(inner)
        self.gate = gate
        self.gate_wait_s = gate_wait_s
        self.cancel: threading.Event | None = None

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        # An embedded model preempts sleep itself between tokens (llm/priority.py): no wait then.
        if self.gate is not None and self.gate.in_flight and not yields_to_queries(self.inner):
            self.gate.wait_clear(self.gate_wait_s)
        if self.cancel is not None and self.cancel.is_set():
            raise SleepCancelled("sleep cancelled before a model call")
        return self.inner.complete(messages, params)


@dataclass
class Running:
    """A job this process is running."""

    job: Job
    context_id: str
    version: int
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    reason: CancelReason | None = None
    run: SleepRun | None = None  # the run Engine.sleep recorded (none when nothing had to run)

    def stop(self, reason: CancelReason) -> None:
        if self.reason is None:
            self.reason = reason
        self.cancel.set()

    def started(self, run: SleepRun) -> None:
        self.run = run

    @property
    def run_id(self) -> str | None:
        return self.run.id if self.run is not None else None


class Worker:
    """One thread's worth of sleeping: its own ``Engine`` facade over the shared store and models."""

    def __init__(self, scheduler: Scheduler, index: int) -> None:
        self.scheduler = scheduler
        self.owner = f"{scheduler.owner_prefix}{index}"
        base = scheduler.engine
        gate = scheduler.gate if base.sleep_model is base.model else None
        self.llm = GatedLLM(base.sleep_model, gate=gate, gate_wait_s=scheduler.settings.query_priority_wait_s)
        self.engine = Engine(model=base.model, store=base.store, sleep_model=self.llm, settings=base.settings)
        self.thread: threading.Thread | None = None

    # --- the loop

    def start(self) -> None:
        self.thread = threading.Thread(target=self.loop, name=f"sleeptime-{self.owner}", daemon=True)
        self.thread.start()

    def loop(self) -> None:
        sched = self.scheduler
        while not sched.stopping.is_set():
            try:
                ran = self.run_once()
            except SleeptimeError as exc:  # the database is away: try again later
                log.warning("sleep worker %s: %s", self.owner, exc.message)
                ran = False
            except Exception as exc:  # a bug: keep the worker alive, the lease brings the job back
                _log_bug(f"sleep worker {self.owner} crashed on a job", exc)
                ran = False
            if not ran:
                sched.wake.wait(sched.settings.scheduler_poll_s)
                sched.wake.clear()

    def run_once(self) -> bool:
        """Claim and run one due job; False when nothing was due."""
        sched = self.scheduler
        sched.relay()  # edits made elsewhere (another process, the CLI) or whose relay failed
        sched.reap()  # PostgreSQL: jobs of processes that died, without waiting for their leases
        job = sched.jobs.claim(self.owner, now=sched.clock.now(), lease_s=sched.settings.job_lease_s)
        if job is None:
            return False
        try:
            self.run(job)
        finally:
            sched.job_changed()
        return True

    # --- one job

    def run(self, job: Job) -> None:
        sched = self.scheduler
        log.info(
            "sleep job %s: context %s, attempt %d/%d", job.id, job.context_id, job.attempts, job.max_attempts
        )
        try:
            context = self.engine.get_context(job.context_id)
            budget = Budget.parse(job.budget)
            resolved = self.engine.resolve_sleep_budget(budget)
        except NotFoundError:
            self._finish(job, "cancelled", "the context was deleted")
            return
        except InvalidInputError as exc:
            self._finish(job, "failed", exc.message)
            return
        estimate = policy.estimate_sleep_tokens(self.llm, context.text, resolved)
        check = policy.check_budgets(
            sched.engine_sql, sched.limits, context.id, estimate, sched.clock.now(), tenant=job.tenant
        )
        if not check.ok:
            log.info("sleep job %s: %s", job.id, check.reason)
            if check.permanent:
                self._finish(job, "failed", f"budget exceeded: {check.reason}")
            else:
                assert check.retry_at is not None
                sched.jobs.requeue(
                    job.id,
                    self.owner,
                    now=sched.clock.now(),
                    due_at=check.retry_at,
                    error=f"budget exceeded: {check.reason}",
                    count_attempt=False,
                    reason="requested",
                )
            return
        running = Running(job, context.id, context.version)
        sched.register(running)
        self.llm.cancel = running.cancel
        beat = threading.Thread(target=self._heartbeat, args=(running,), daemon=True)
        beat.start()
        try:
            learned = self.engine.sleep(
                context.id, budget, cancel=running.cancel, truncate=True, on_run=running.started
            )
        except SleepCancelled:
            self._cancelled(running, running.run_id)
        except NotFoundError:
            self._finish(
                job, "cancelled", "the context was deleted while sleeping on it", run_id=running.run_id
            )
        except SleeptimeError as exc:
            retryable = exc.retryable or isinstance(exc, StoreError)
            self._failed(job, exc.message, retryable=retryable, run_id=running.run_id)
        except Exception as exc:
            _log_bug(f"sleep job {job.id} failed with a bug", exc)
            self._failed(job, f"{type(exc).__name__}: {exc}", retryable=False, run_id=running.run_id)
        else:
            run_id = running.run_id
            note = None
            if running.reason == "changed":
                note = (
                    f"finished for version {context.version}, which changed meanwhile: kept as history only"
                )
            self._finish(
                job, "done", note, version=learned.context_version, run_id=run_id, learned_id=learned.id
            )
            log.info("sleep job %s done: learned context %s", job.id, learned.id)
        finally:
            running.finished.set()
            sched.unregister(running)
            beat.join(timeout=5)

    def _heartbeat(self, running: Running) -> None:
        sched = self.scheduler
        interval = sched.settings.job_heartbeat_interval_s
        while not running.finished.wait(interval):
            try:
                owned, version = sched.jobs.heartbeat(
                    running.job.id, self.owner, now=sched.clock.now(), lease_s=sched.settings.job_lease_s
                )
            except SleeptimeError as exc:
                log.warning("sleep job %s: heartbeat failed: %s", running.job.id, exc.message)
                continue
            if not owned:
                running.stop("lease")
            elif version is None:
                running.stop("deleted")
            elif version != running.version:
                running.stop("changed")

    def _cancelled(self, running: Running, run_id: str | None) -> None:
        sched, job = self.scheduler, running.job
        if running.reason == "shutdown":
            sched.jobs.requeue(
                job.id,
                self.owner,
                now=sched.clock.now(),
                due_at=sched.clock.now(),
                error="the server stopped during the run",
                count_attempt=False,
                reason="requested",
            )
        elif running.reason == "lease":
            log.warning("sleep job %s: lost its lease; another worker has it", job.id)
        elif running.reason == "deleted":
            self._finish(job, "cancelled", "the context was deleted while sleeping on it", run_id=run_id)
        else:
            self._finish(
                job,
                "cancelled",
                f"the context changed while sleeping on version {running.version}; "
                "the new version has a job of its own",
                run_id=run_id,
            )

    def _failed(self, job: Job, message: str, *, retryable: bool, run_id: str | None) -> None:
        sched = self.scheduler
        log.warning("sleep job %s attempt %d failed: %s", job.id, job.attempts, message)
        if retryable and job.attempts < job.max_attempts:
            now = sched.clock.now()
            sched.jobs.requeue(
                job.id,
                self.owner,
                now=now,
                due_at=policy.retry_at(now, sched.settings.job_retry_delay_s, job.attempts),
                error=message,
            )
        else:
            text = gave_up(job.attempts, message) if retryable else message
            self._finish(job, "failed", text, run_id=run_id)

    def _finish(
        self,
        job: Job,
        status: Literal["done", "failed", "cancelled"],
        error: str | None,
        *,
        version: int | None = None,
        run_id: str | None = None,
        learned_id: str | None = None,
    ) -> None:
        sched = self.scheduler
        if not sched.jobs.finish(
            job.id,
            self.owner,
            status,
            now=sched.clock.now(),
            error=error,
            version=version,
            run_id=run_id,
            learned_id=learned_id,
        ):
            log.warning(
                "sleep job %s: no longer held by %s; outcome %s not recorded", job.id, self.owner, status
            )


def _log_bug(what: str, exc: BaseException) -> None:
    """The traceback's frames at error level; the message (it may quote a prompt) only at debug."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s\n%s", what, type(exc).__name__, frames)
    log.debug("%s", what, exc_info=exc)
