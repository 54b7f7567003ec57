"""The facade: register contexts, ``sleep`` on them, ``ask`` about them.

engine = Engine()                                   # embedded default model, SQLite store
ctx = engine.add_context(text)
engine.sleep(ctx.id)                                # S(c) -> c'   (sleep.py)
engine.ask(ctx.id, "How many ...?")                 # T_b(q, c') -> a   (answer.py)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
from typing import Any

from . import prompts
from .answer import Answer, respond, validate_question
from .budget import DEFAULT_ASK_BUDGET, DEFAULT_SLEEP_BUDGET, PARALLEL_SLEEP_TEMPERATURE, Budget
from .context import Context, validate_context_text, validate_metadata
from .errors import InvalidInputError
from .escalation import stated_answer, supported_by_notes, then
from .learned import LearnedContext, join_notes
from .llm import LLM, load_model
from .llm.base import Usage
from .llm.priority import background_work
from .settings import Settings, load_settings
from .sleep import STRATEGIES, Growth, ProgressCallback, SleepCancelled, sleep_on
from .store import QueryRecord, Store, open_store
from .warmup import forget_context, warm_answer_prompts
from .window import fit_text

ModelArg = str | LLM | None
# How many versions back an incremental sleep looks for notes to grow.
MAX_GROWTH_LOOKBACK = 20


class Engine:
    """Sleep-time compute over a store of contexts.

    ``model`` answers questions (and sleeps, unless ``sleep_model`` is given): a
    model spec (see ``sleeptime.llm``) or a backend object. ``store`` is a
    database URL or a store object. Other keyword arguments override settings.
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

    def get_context(self, context_id: str, *, version: int | None = None) -> Context:
        return self.store.get_context(context_id, version=version)

    def list_contexts(self, *, limit: int = 100, offset: int = 0) -> list[Context]:
        return self.store.list_contexts(limit=limit, offset=offset)

    def update_context(
        self, context_id: str, text: str, metadata: dict[str, Any] | None = None, *, truncate: bool = False
    ) -> Context:
        """Replace the text: a new version. Learned contexts of older versions stay as history
        and are never used to answer about the new version."""
        text = self._fit_for_storage(validate_context_text(text), truncate)
        meta = None if metadata is None else validate_metadata(metadata)
        return self.store.update_context(context_id, text, metadata=meta)

    def append_context(self, context_id: str, text: str, *, truncate: bool = False) -> Context:
        """Add text at the end: a new version that the next sleep updates incrementally."""
        addition = validate_context_text(text)
        current = self.store.get_context(context_id)
        return self.update_context(context_id, f"{current.text}\n{addition}", truncate=truncate)

    def delete_context(self, context_id: str) -> None:
        self.store.delete_context(context_id)
        forget_context(self.settings, context_id)

    def _fit_for_storage(self, text: str, truncate: bool) -> str:
        # Room for the notes and an answer must remain next to the context at test time.
        reserved = self._sleep_defaults().max_tokens or 768
        reserved += self._ask_defaults().max_tokens or 512
        return fit_text(self.model, text, reserved=reserved, truncate=truncate)

    # ------------------------------------------------------------------ sleep
    @background_work  # queries on the same model go first (llm/priority.py)
    def sleep(
        self,
        context_id: str,
        budget: Budget | dict[str, Any] | None = None,
        *,
        strategy: str = "rethink",
        force: bool = False,
        incremental: bool = True,
        truncate: bool = False,
        cancel: threading.Event | None = None,
        on_call: ProgressCallback | None = None,
    ) -> LearnedContext:
        """``S(c) -> c'`` for the context's current version.

        A learned context already made with the same inputs is returned at no cost
        unless ``force``. If the context grew by appended text since a learned
        context was made, the new one starts from it (``incremental``).
        """
        if strategy not in STRATEGIES:
            raise InvalidInputError(f"unknown sleep strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
        context = self.store.get_context(context_id)
        resolved = self.resolve_sleep_budget(budget)
        llm = self.sleep_model
        growth, based_on = self._growth(context) if incremental else (None, None)
        key = learned_key(
            context, strategy, llm.name, resolved, based_on, nonce=uuid.uuid4().hex if force else ""
        )
        if not force:
            existing = self.store.find_learned(context.id, context.version, key)
            if existing is not None:
                return existing
        reserved = 2 * (resolved.max_tokens or 768)
        text = fit_text(llm, context.text, reserved=reserved, truncate=truncate)
        budget_record = resolved.model_dump(exclude_none=True)
        run = self.store.start_run(
            context.id, context.version, key=key, strategy=strategy, model=llm.name, budget=budget_record
        )
        try:
            outcome = sleep_on(
                llm,
                text,
                resolved,
                growth=growth,
                cancel=cancel,
                on_call=on_call,
                parallel=getattr(llm, "max_concurrency", 1),
                structured=strategy == "rethink-structured",
            )
        except SleepCancelled as exc:
            self.store.fail_run(run.id, str(exc), usage=Usage(), status="cancelled")
            raise
        except BaseException as exc:
            self.store.fail_run(run.id, f"{type(exc).__name__}: {exc}", usage=Usage())
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
            extra={"prompt_version": prompts.PROMPT_VERSION, "truncated": text != context.text},
        )
        stored = self.store.finish_run(run.id, learned)
        if self.settings.prompt_warmup:  # queries on it start from a computed prompt (warmup.py)
            warm_answer_prompts(self.model, context, stored)
        return stored

    def resolve_sleep_budget(self, budget: Budget | dict[str, Any] | None) -> Budget:
        given = Budget.parse(budget)
        resolved = given.over(self._sleep_defaults())
        if (resolved.k or 1) > 1 and given.temperature is None and resolved.temperature == 0.0:
            resolved = resolved.model_copy(update={"temperature": PARALLEL_SLEEP_TEMPERATURE})
        return resolved

    def _sleep_defaults(self) -> Budget:
        # A partial budget in the settings (e.g. only rounds) keeps the built-in rest.
        return self.settings.sleep_budget.over(DEFAULT_SLEEP_BUDGET)

    def _ask_defaults(self) -> Budget:
        return self.settings.ask_budget.over(DEFAULT_ASK_BUDGET)

    def _growth(self, context: Context) -> tuple[Growth | None, str | None]:
        """If an earlier version that was slept on is a prefix of this one, grow its notes.

        Walks back over versions, so several appends between two sleeps still grow
        the last learned context instead of starting over.
        """
        for version in range(context.version - 1, max(0, context.version - MAX_GROWTH_LOOKBACK), -1):
            earlier = self.store.get_context(context.id, version=version)
            if not context.text.startswith(earlier.text):
                return None, None  # replaced, not appended: older versions cannot be prefixes either
            learned = self.store.latest_learned(context.id, version)
            if learned is not None:
                added = context.text[len(earlier.text) :].strip()
                return (Growth(earlier.text, added, learned.text), learned.id) if added else (None, None)
        return None, None

    def learned_context(self, context_id: str) -> LearnedContext | None:
        """The newest learned context of the context's current version, if any."""
        context = self.store.get_context(context_id)
        return self.store.latest_learned(context.id, context.version)

    # -------------------------------------------------------------------- ask
    def ask(
        self,
        context_id: str,
        question: str,
        budget: Budget | dict[str, Any] | None = None,
        *,
        use_learned: bool = True,
        truncate: bool = False,
        record: bool = True,
        escalate: Budget | dict[str, Any] | None = None,
    ) -> Answer:
        """``T_b(q, c') -> a``. With ``use_learned=False``: the test-time-only baseline.

        Never waits for sleep: with no learned context for the current version the
        answer comes from the raw context, and ``Answer.source`` says so.

        ``escalate``: a larger budget for when the cheap answer is not enough, i.e. states
        something the learned context does not contain (``escalation.py``); it is also
        used at once when there is no learned context. ``Answer.escalated`` says so.
        """
        question = validate_question(question)
        context = self.store.get_context(context_id)
        resolved = Budget.parse(budget).over(self._ask_defaults())
        larger = Budget.parse(escalate).over(self._ask_defaults()) if escalate is not None else None
        learned = self.store.latest_learned(context.id, context.version) if use_learned else None
        note = ""
        if use_learned and learned is None:
            note = f"no learned context for version {context.version} yet: answered from the raw context"
        if larger is not None and learned is None:
            resolved = larger  # nothing to read a cheap answer off
        llm = self.model
        notes = learned.text if learned is not None else ""
        completion = respond(llm, context.text, notes, question, resolved, truncate=truncate)
        escalated = larger is not None and learned is None
        if larger is not None and learned is not None and not supported_by_notes(completion.text, notes):
            cheap = completion
            again = respond(llm, context.text, notes, question, larger, truncate=truncate)
            completion = then(cheap, again)
            resolved, escalated = larger, True
            stated = stated_answer(cheap.text).strip()[:80]
            note = f"escalated: the cheap answer ({stated!r}) is not in the learned context"
        answer = Answer(
            text=completion.text,
            usage=completion.usage,
            latency_s=completion.latency_s,
            source="learned" if learned is not None else "raw",
            context_id=context.id,
            context_version=context.version,
            question=question,
            model=completion.model,
            learned_context_id=learned.id if learned is not None else None,
            texts=completion.texts,
            time_to_first_token_s=completion.time_to_first_token_s,
            budget=resolved.model_dump(exclude_none=True),
            note=note,
            escalated=escalated,
        )
        if not record:
            return answer
        stored = self.store.record_query(
            QueryRecord(
                id=uuid.uuid4().hex[:16],
                context_id=answer.context_id,
                context_version=answer.context_version,
                question=question,
                answer=answer.text,
                usage=answer.usage,
                latency_s=answer.latency_s,
                model=answer.model,
                source=answer.source,
                learned_context_id=answer.learned_context_id,
                budget=answer.budget,
                answers=answer.texts,
            )
        )
        return _with_record(answer, stored)

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
        for llm in self._models.values():
            closer = getattr(llm, "close", None)
            if callable(closer):
                closer()
        self._models.clear()
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def learned_key(
    context: Context, strategy: str, model: str, budget: Budget, based_on: str | None, *, nonce: str = ""
) -> str:
    """What produced a learned context; equal keys mean the same sleep."""
    identity = {
        "context": context.id,
        "version": context.version,
        "text": context.sha256,
        "strategy": strategy,
        "prompt_version": prompts.PROMPT_VERSION,
        "model": model,
        "budget": budget.model_dump(exclude_none=True),
        "based_on": based_on,
        "nonce": nonce,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def _with_record(answer: Answer, stored: QueryRecord) -> Answer:
    from dataclasses import replace

    return replace(answer, id=stored.id, created_at=stored.created_at)
