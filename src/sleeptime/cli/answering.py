"""Asking from the command line: the question from an argument or stdin, a streamed answer,
and the line saying where it came from. Shared by ``sleeptime ask`` and ``sleeptime chat``."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

from rich.text import Text

from ..answer import Answer
from ..budget import Budget
from ..engine import Engine
from ..errors import InvalidInputError
from ..llm.base import LLM, Completion, DelegatingModel, Message, SamplingParams
from .app import console, err_console
from .waiting import waiting


def read_question(question: str | None) -> str:
    """QUESTION, or stdin when it is '-' or omitted with text piped in."""
    if question == "-" or (question is None and not sys.stdin.isatty()):
        return sys.stdin.read().strip()
    if question is None:
        raise InvalidInputError("no question given", hint="pass QUESTION, or pipe it in with '-'")
    return question


class WithSystem(DelegatingModel):
    """The answering model with the user's ``--system`` text added to every system message."""

    def __init__(self, inner: LLM, system: str) -> None:
        super().__init__(inner)
        self.system = system.strip()

    def _messages(self, messages: Sequence[Message]) -> list[Message]:
        out: list[Message] = [dict(m) for m in messages]  # type: ignore[misc]
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{self.system}"}
        else:
            out.insert(0, {"role": "system", "content": self.system})
        return out

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        return self.inner.complete(self._messages(messages), params)

    def stream(self, messages: Sequence[Message], params: SamplingParams) -> Iterator[str]:
        streamer = getattr(self.inner, "stream", None)
        if streamer is None:
            yield self.complete(messages, params).text
            return
        yield from streamer(self._messages(messages), params)

    def close(self) -> None:
        closer = getattr(self.inner, "close", None)
        if callable(closer):
            closer()


def ask_and_print(
    engine: Engine,
    context_id: str,
    question: str,
    budget: Budget,
    *,
    stream: bool = True,
    **options: Any,
) -> Answer:
    """Answer and print it: token by token as it is generated when ``stream`` (and the engine
    can), else behind a spinner. The source line goes to stderr, so stdout is the answer alone."""
    can_stream = (
        stream and hasattr(engine, "ask_stream") and (budget.n or 1) == 1 and options.get("escalate") is None
    )
    if can_stream:
        answer = _streamed(engine, context_id, question, budget, **options)
    else:
        with waiting("thinking"):
            answer = engine.ask(context_id, question, budget, **options)
        texts = answer.texts or (answer.text,)
        for i, text in enumerate(texts):
            prefix = f"[{i + 1}] " if len(texts) > 1 else ""
            console.print(Text(prefix + text), highlight=False)
    err_console.print(Text(source_line(answer), style="dim"), highlight=False, soft_wrap=True)
    return answer


def _streamed(engine: Engine, context_id: str, question: str, budget: Budget, **options: Any) -> Answer:
    """Print the pieces as they come; a spinner until the first (the prompt is being read)."""
    options.pop("escalate", None)
    stream = engine.ask_stream(context_id, question, budget, **options)
    status = err_console.status("thinking", spinner="dots") if err_console.is_terminal else None
    if status is not None:
        status.start()
    try:
        for piece in stream:
            if status is not None:
                status.stop()
                status = None
            console.out(piece, end="", highlight=False)
            console.file.flush()
    finally:
        if status is not None:
            status.stop()
    console.out("")
    return stream.answer


def source_line(answer: Answer) -> str:
    """Where an answer came from and what it cost, in one line."""
    if answer.source == "learned":
        source = f"from learned context {answer.learned_context_id}"
    else:
        source = "from the raw context"
    note = answer.note.removesuffix(": answered from the raw context")
    if note:
        source += f" ({note})"
    return f"{source}; {answer.usage.completion_tokens} completion tokens, {answer.latency_s:.2f}s"
