"""The facade: register contexts, ``sleep`` on them, ``ask`` about them.

engine = Engine()                                   # embedded default model, SQLite store
ctx = engine.add_context(text)
engine.sleep(ctx.id)                                # S(c) -> c'   (sleep.py)
engine.ask(ctx.id, "How many ...?")                 # T_b(q, c') -> a   (answer.py)
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from . import prompts, sleep_reuse
from .answer import Answer, AnswerStream
from .budget import AskBudget, Budget, SleepBudget, resolve_ask, resolve_sleep
from .context import Context, validate_context_text, validate_metadata
from .errors import InvalidInputError, NotFoundError, SleepCancelled, StoreError
from .learned import LearnedContext, join_notes
from .llm import LLM, load_model
from .llm.base import Usage, UsageMeter
from .llm.priority import background_work
from .queries import AnswerPlan, answer_question, plan_answer, stream_answer
from .settings import Settings, load_settings
from .sleep import STRATEGIES, ProgressCallback, sleep_on
from .store import QueryRecord, SleepRun, SQLStore, Store, open_store
from .warmup import forget_context, warm_answer_prompts
from .window import fit_text

log = logging.getLogger(__name__)

ModelArg = str | LLM | None


class Engine:
    """Sleep-time compute over a store of contexts.

    ``model`` answers questions (and sleeps, unless ``sleep_model`` is given): a
    model spec (see ``sleeptime.llm``) or a backend object. ``store`` is a
    database URL or a store object. Other keyword arguments override settings.

    Every method that names a context takes ``tenant``: given, a context of another
    tenant is a ``NotFoundError`` like a missing one; ``None`` (the library's use)
    checks nothing. The CLI and the server go through these methods, never the store.
    """

    def __init__(
        self,
        model: ModelArg = None,
        store: str | Store | None = None,
        *,
        sleep_model: ModelArg = None,
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or load_settings(**overrides)
        self._model_arg: ModelArg = model if model is not None else self.settings.model
        self._sleep_model_arg: ModelArg = (
            sleep_model if sleep_model is not None else self.settings.sleep_model
        )
        self._models: dict[str, LLM] = {}
        self._models_lock = threading.Lock()
        if isinstance(store, str) or store is None:
            self.store: Store = open_store(store or self.settings.database_url)
        else:
            self.store = store

    # ----------------------------------------------------------------- models
    @property
    def model(self) -> LLM:
        """The answering model, loaded on first use."""
        return self._resolve(self._model_arg)

    @property
    def sleep_model(self) -> LLM:
        """The model that sleeps: ``sleep_model`` if given, else ``model``."""
        return self._resolve(self._sleep_model_arg) if self._sleep_model_arg is not None else self.model

    def _resolve(self, arg: ModelArg) -> LLM:
        if arg is None:
            arg = self.settings.model
        if not isinstance(arg, str):
            return arg
        with self._models_lock:
            if arg not in self._models:
                self._models[arg] = load_model(arg, self.settings)
            return self._models[arg]

    # --------------------------------------------------------------- contexts
    def add_context(
        self,
        text: str,
        metadata: dict[str, Any] | None = None,
        *,
        tenant: str = "default",
        truncate: bool = False,
    ) -> Context:
        """Store a new context (version 1). Too long for the model: refused, or cut with ``truncate``."""
        text = self._fit_for_storage(validate_context_text(text), truncate)
        return self.store.add_context(text, validate_metadata(metadata), tenant=tenant)

    def get_context(
        self, context_id: str, *, version: int | None = None, tenant: str | None = None
    ) -> Context:
        return self.store.get_context(context_id, version=version, tenant=tenant)

    def list_contexts(self, *, tenant: str | None = None, limit: int = 100, offset: int = 0) -> list[Context]:
        return self.store.list_contexts(tenant=tenant, limit=limit, offset=offset)

    def update_context(
        self,
        context_id: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        *,
        tenant: str | None = None,
        truncate: bool = False,
    ) -> Context:
        """Replace the text: a new version. Learned contexts of older versions stay as history
        and are never used to answer about the new version."""
        text = self._fit_for_storage(validate_context_text(text), truncate)
        meta = None if metadata is None else validate_metadata(metadata)
        return self.store.update_context(context_id, text, metadata=meta, tenant=tenant)

    def append_context(
        self, context_id: str, text: str, *, tenant: str | None = None, truncate: bool = False
    ) -> Context:
        """Add text at the end: a new version that the next sleep updates incrementally."""
        addition = validate_context_text(text)
        current = self.store.get_context(context_id, tenant=tenant)
        text = f"{current.text}\n{addition}"
        return self.update_context(context_id, text, tenant=tenant, truncate=truncate)

    def delete_context(self, context_id: str, *, tenant: str | None = None) -> None:
        self.store.delete_context(context_id, tenant=tenant)
        forget_context(self.settings, context_id)

    def _fit_for_storage(self, text: str, truncate: bool) -> str:
        # Room for the notes and an answer must remain next to the context at test time.
        reserved = self.resolve_sleep_budget(None).max_tokens + self.resolve_ask_budget(None).max_tokens
        return fit_text(self.model, text, reserved=reserved, truncate=truncate)

    # ------------------------------------------------------------------ sleep
    @background_work  # queries on the same model go first (llm/priority.py)
    def sleep(
        self,
        context_id: str,
        budget: Budget | dict[str, Any] | None = None,
        *,
        strategy: str | None = None,
        force: bool = False,
        incremental: bool = True,
        truncate: bool = False,
        cancel: threading.Event | None = None,
        on_call: ProgressCallback | None = None,
        on_run: Callable[[SleepRun], None] | None = None,
        tenant: str | None = None,
    ) -> LearnedContext:
        """``S(c) -> c'`` for the context's current version.

        A learned context already made with the same inputs is returned at no cost
        unless ``force``. If the context grew by appended text since a learned
        context was made, the new one starts from it (``incremental``).

        Otherwise a run is recorded before the first model call (``on_run`` hears it)
        with the tokens spent so far after every call, and closed as done, failed or
        cancelled with what it spent, also when it ends in an error.
        """
        strategy = strategy or self.settings.sleep_strategy
        if strategy not in STRATEGIES:
            raise InvalidInputError(
                f"unknown sleep strategy {strategy!r}; known: {', '.join(STRATEGIES)}",
                hint="the default comes from the sleep_strategy setting (SLEEPTIME_SLEEP_STRATEGY)",
            )
        context = self.store.get_context(context_id, tenant=tenant)
        resolved = self.resolve_sleep_budget(budget, strategy)
        llm = self.sleep_model
        # solve re-anticipates over the whole grown text (its entries are not grown in place yet).
        grows = incremental and strategy != "solve"
        growth, based_on = sleep_reuse.growth(self.store, context) if grows else (None, None)
        key = sleep_reuse.learned_key(context, strategy, llm.name, resolved, based_on)
        existing = sleep_reuse.reusable(self.store, context, key)
        if existing is not None and not force:
            return existing
        if existing is not None:
            key = sleep_reuse.rerun_key(key)
        text = fit_text(llm, context.text, reserved=2 * resolved.max_tokens, truncate=truncate)
        budget_record = resolved.model_dump(exclude_none=True)
        run = self.store.start_run(
            context.id, context.version, key=key, strategy=strategy, model=llm.name, budget=budget_record
        )
        meter = UsageMeter(llm, on_usage=lambda spent: self._record_run_usage(run.id, spent))
        try:
            if on_run is not None:
                on_run(run)
            outcome = sleep_on(
                meter,
                text,
                resolved,
                growth=growth,
                cancel=cancel,
                on_call=on_call,
                parallel=llm.max_concurrency,
                strategy=strategy,
            )
        except SleepCancelled as exc:
            self.store.fail_run(run.id, str(exc), usage=meter.usage, status="cancelled")
            raise
        except BaseException as exc:
            self.store.fail_run(run.id, f"{type(exc).__name__}: {exc}", usage=meter.usage)
            raise
        learned = LearnedContext(
            id=uuid.uuid4().hex[:16],
            context_id=context.id,
            context_version=context.version,
            text=join_notes(outcome.notes),
            notes=outcome.notes,
            usage=outcome.usage,
            duration_s=outcome.duration_s,
            model=llm.name,
            strategy=strategy,
            budget=budget_record,
            key=key,
            rounds_used=outcome.rounds_used,
            based_on=based_on,
            extra={
                "prompt_version": prompts.PROMPT_VERSION,
                "truncated": text != context.text,
                **({"entries": outcome.entries.to_dict()} if outcome.entries is not None else {}),
            },
        )
        stored = self.store.finish_run(run.id, learned)
        if self.settings.prompt_warmup:  # queries on it start from a computed prompt (warmup.py)
            warm_answer_prompts(
                self.model, context, stored, verbosity=self.resolve_ask_budget(None).verbosity
            )
        return stored

    def _record_run_usage(self, run_id: str, usage: Usage) -> None:
        """What a running run has spent so far: budgets and a crash's record count it."""
        try:
            self.store.record_run_usage(run_id, usage)
        except StoreError as exc:  # the run goes on; its close records the total
            log.warning("cannot record the usage of run %s: %s", run_id, exc.message)

    # ---------------------------------------------------------------- budgets
    def resolve_sleep_budget(
        self, budget: Budget | dict[str, Any] | None, strategy: str | None = None
    ) -> SleepBudget:
        """The budget a sleep runs with: ``budget`` over the settings over the built-in defaults."""
        chosen = strategy or self.settings.sleep_strategy
        return resolve_sleep(budget, self.settings.sleep_budget, strategy=chosen)

    def resolve_ask_budget(self, budget: Budget | dict[str, Any] | None) -> AskBudget:
        """The budget an answer runs with: ``budget`` over the settings over the built-in defaults."""
        return resolve_ask(budget, self.settings.ask_budget)

    # -------------------------------------------------- learned contexts, runs, queries
    def learned_context(self, context_id: str, *, tenant: str | None = None) -> LearnedContext | None:
        """The newest learned context of the context's current version, if any."""
        context = self.store.get_context(context_id, tenant=tenant)
        return self.store.latest_learned(context.id, context.version)

    def list_learned(self, context_id: str, *, tenant: str | None = None) -> list[LearnedContext]:
        """Every learned context of the context, all versions, newest first."""
        self.store.get_context(context_id, tenant=tenant)
        return self.store.list_learned(context_id)

    def get_learned(self, learned_id: str, *, tenant: str | None = None) -> LearnedContext:
        learned = self.store.get_learned(learned_id)
        if tenant is not None:
            try:
                self.store.get_context(learned.context_id, tenant=tenant)
            except NotFoundError:
                raise NotFoundError(f"no learned context {learned_id!r}") from None
        return learned

    def list_runs(self, context_id: str, *, tenant: str | None = None) -> list[SleepRun]:
        """The context's sleep runs (done, failed, cancelled, interrupted, running), newest first."""
        self.store.get_context(context_id, tenant=tenant)
        return self.store.list_runs(context_id)

    def list_queries(
        self, context_id: str, *, tenant: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[QueryRecord]:
        """Questions asked about the context with their answers, newest first."""
        self.store.get_context(context_id, tenant=tenant)
        return self.store.list_queries(context_id, limit=limit, offset=offset)

    def record_latency(self, query_id: str, *, latency_s: float, queue_wait_s: float) -> None:
        """Store the latency a caller saw with the query ``query_id`` (the server's measure).

        A no-op for stores that keep no latencies (only ``SQLStore`` does).
        """
        if isinstance(self.store, SQLStore):
            self.store.set_query_latency(query_id, latency_s=latency_s, queue_wait_s=queue_wait_s)

    # -------------------------------------------------------------------- ask
    def ask(
        self,
        context_id: str,
        question: str,
        budget: Budget | dict[str, Any] | None = None,
        *,
        tenant: str | None = None,
        learned_id: str | None = None,
        use_learned: bool = True,
        truncate: bool = False,
        record: bool = True,
        escalate: Budget | dict[str, Any] | None = None,
    ) -> Answer:
        """``T_b(q, c') -> a``. With ``use_learned=False``: the test-time-only baseline.

        Never waits for sleep: with no learned context for the current version the
        answer comes from the raw context, and ``Answer.source`` says so. ``learned_id``
        answers from that learned context (of this context, any version) instead.

        ``escalate``: a larger budget for when the cheap answer is not enough, i.e. states
        something the learned context does not contain (``escalation.py``); it is also
        used at once when there is no learned context. ``Answer.escalated`` says so.
        """
        plan = self._plan(context_id, question, budget, escalate, tenant, learned_id, use_learned)
        return answer_question(self.model, self.store, plan, truncate=truncate, record=record)

    def ask_stream(
        self,
        context_id: str,
        question: str,
        budget: Budget | dict[str, Any] | None = None,
        *,
        tenant: str | None = None,
        learned_id: str | None = None,
        use_learned: bool = True,
        truncate: bool = False,
        record: bool = True,
    ) -> AnswerStream:
        """``ask``, streamed: iterate over the result for the text as it is generated; its
        ``answer`` (recorded once the last piece is out) is what ``ask`` would return.

        Context, learned context and budget are resolved, and errors about them raised,
        here, before the first piece. A stream closed early records nothing.
        """
        plan = self._plan(context_id, question, budget, None, tenant, learned_id, use_learned)
        return stream_answer(self.model, self.store, plan, truncate=truncate, record=record)

    def _plan(
        self,
        context_id: str,
        question: str,
        budget: Budget | dict[str, Any] | None,
        escalate: Budget | dict[str, Any] | None,
        tenant: str | None,
        learned_id: str | None,
        use_learned: bool,
    ) -> AnswerPlan:
        return plan_answer(
            self.store,
            context_id,
            question,
            self.resolve_ask_budget(budget),
            larger=self.resolve_ask_budget(escalate) if escalate is not None else None,
            tenant=tenant,
            learned_id=learned_id,
            use_learned=use_learned,
        )

    # ------------------------------------------------------------------ async
    async def asleep(
        self, context_id: str, budget: Budget | dict[str, Any] | None = None, **kwargs: Any
    ) -> LearnedContext:
        return await asyncio.to_thread(self.sleep, context_id, budget, **kwargs)

    async def aask(
        self, context_id: str, question: str, budget: Budget | dict[str, Any] | None = None, **kwargs: Any
    ) -> Answer:
        return await asyncio.to_thread(self.ask, context_id, question, budget, **kwargs)

    # -------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Close the models this engine loaded from specs (not those passed in) and the store."""
        for llm in self._models.values():
            llm.close()
        self._models.clear()
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
