"""A question about a context, from what it is answered from to its record.

``plan_answer`` decides what an answer is made from (the context version, the
learned context or none, the resolved budget, the note that says so);
``record_answer`` turns the model's completion into the ``Answer`` and stores its
``QueryRecord``. ``Engine.ask`` and ``Engine.ask_stream`` are both built on these
two, so a streamed answer and a plain one cannot differ in anything but delivery.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from .answer import Answer, AnswerInput, AnswerStream, Source, respond, respond_stream, validate_question
from .budget import AskBudget
from .context import Context
from .entries import Entries, Value
from .errors import InvalidInputError, NotFoundError
from .escalation import adds_facts, stated_answer, supported_by_notes, then, trusted_notes
from .learned import LearnedContext
from .llm.base import LLM, Completion
from .store import QueryRecord, Store


@dataclass(frozen=True)
class AnswerPlan:
    """What one answer is made from."""

    context: Context
    learned: LearnedContext | None
    question: str
    budget: AskBudget
    larger: AskBudget | None  # the escalation budget, if any
    note: str
    escalated: bool
    query_id: str  # chosen up front, so that a stream can name its query before the first piece

    @property
    def notes(self) -> str:
        return self.learned.text if self.learned is not None else ""

    @property
    def entries(self) -> Entries | None:
        return self.learned.entries if self.learned is not None else None

    @property
    def values(self) -> dict[str, Value]:
        """The learned context's named quantities, which a verbosity-0 answer computes with."""
        entries = self.entries
        return entries.values() if entries is not None else {}

    @property
    def new_facts(self) -> bool:
        """The question brings numbers the context does not state. The anticipated questions do not
        count: on public data every question whose new numbers they had held them by coincidence
        (a die's "rolling a 1" for "greater than 1 twice in a row"; docs/results.md)."""
        return adds_facts(self.question, self.context.text)

    def answer_input(self, *, truncate: bool) -> AnswerInput:
        notes, values = self.notes, self.values
        return AnswerInput(
            self.context.text, notes, self.question, self.budget, values, truncate, self.new_facts
        )

    @property
    def source(self) -> Source:
        return "learned" if self.learned is not None else "raw"


def plan_answer(
    store: Store,
    context_id: str,
    question: str,
    budget: AskBudget,
    *,
    tenant: str | None,
    learned_id: str | None,
    use_learned: bool,
    larger: AskBudget | None,
) -> AnswerPlan:
    """The context's current version and its newest learned context (``use_learned``), or
    the learned context ``learned_id`` with the version it was made from."""
    question = validate_question(question)
    if learned_id is not None and not use_learned:
        raise InvalidInputError("learned_id names a learned context; use_learned=False asks for none")
    context = store.get_context(context_id, tenant=tenant)
    learned: LearnedContext | None = None
    if learned_id is not None:
        learned = store.get_learned(learned_id)
        if learned.context_id != context.id:
            raise NotFoundError(f"context {context.id!r} has no learned context {learned_id!r}")
        context = store.get_context(context.id, version=learned.context_version)
    elif use_learned:
        learned = store.latest_learned(context.id, context.version)
    note = ""
    if use_learned and learned is None:
        note = f"no learned context for version {context.version} yet: answered from the raw context"
    escalated = larger is not None and learned is None  # no notes to read a cheap answer off
    if larger is not None and escalated:
        budget = larger
    return AnswerPlan(context, learned, question, budget, larger, note, escalated, uuid.uuid4().hex[:16])


def answer_question(llm: LLM, store: Store, plan: AnswerPlan, *, truncate: bool, record: bool) -> Answer:
    """``T_b(q, c') -> a`` as planned; with an escalation budget, a cheap answer that states
    something the notes do not contain is answered again with it (``escalation.py``)."""
    given = plan.answer_input(truncate=truncate)
    completion = respond(llm, given)
    larger = plan.larger
    learned = plan.learned
    supported = learned is not None and supported_by_notes(completion.text, trusted_notes(learned))
    if larger is not None and learned is not None and not supported:
        again = respond(llm, replace(given, budget=larger))
        stated = stated_answer(completion.text).strip()[:80]
        note = f"escalated: the cheap answer ({stated!r}) is not in the learned context"
        plan = replace(plan, budget=larger, escalated=True, note=note)
        completion = then(completion, again)
    return record_answer(store, plan, completion, record=record)


def stream_answer(llm: LLM, store: Store, plan: AnswerPlan, *, truncate: bool, record: bool) -> AnswerStream:
    """``T_b(q, c') -> a`` as planned, streamed; recorded once the last piece is out."""
    pieces = respond_stream(llm, plan.answer_input(truncate=truncate))
    return AnswerStream(
        pieces,
        lambda completion: record_answer(store, plan, completion, record=record),
        source=plan.source,
        context_id=plan.context.id,
        context_version=plan.context.version,
        learned_context_id=plan.learned.id if plan.learned is not None else None,
        note=plan.note,
        model=llm.name,
        id=plan.query_id if record else None,
    )


def record_answer(store: Store, plan: AnswerPlan, completion: Completion, *, record: bool) -> Answer:
    """The ``Answer``; with ``record``, stored as a query under ``plan.query_id``."""
    answer = Answer(
        text=completion.text,
        usage=completion.usage,
        latency_s=completion.latency_s,
        source=plan.source,
        context_id=plan.context.id,
        context_version=plan.context.version,
        question=plan.question,
        model=completion.model,
        learned_context_id=plan.learned.id if plan.learned is not None else None,
        texts=completion.texts,
        time_to_first_token_s=completion.time_to_first_token_s,
        budget=plan.budget.model_dump(exclude_none=True),
        note=plan.note,
        escalated=plan.escalated,
        finish_reasons=completion.finish_reasons,
    )
    if not record:
        return answer
    stored = store.record_query(
        QueryRecord(
            id=plan.query_id,
            context_id=answer.context_id,
            context_version=answer.context_version,
            question=answer.question,
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
    return replace(answer, id=stored.id, created_at=stored.created_at)
