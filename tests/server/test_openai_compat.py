"""The OpenAI-compatible endpoint takes every Chat Completions field: honours what the
models can do, ignores the harmless, refuses the rest with a 400 naming the field."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from sleeptime.llm.base import Completion, DelegatingModel, Message, SamplingParams
from sleeptime.llm.fake import ScriptedModel

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."
USER = [{"role": "user", "content": "How many apples?"}]
TOOL = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}
NO_OPS: dict[str, Any] = {
    "logprobs": False,
    "top_logprobs": 0,
    "tools": [TOOL],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "user": "u-1",
    "safety_identifier": "s-1",
    "prompt_cache_key": "k",
    "top_p": 1,
    "frequency_penalty": 0,
    "presence_penalty": 0,
    "logit_bias": {},
    "n": 1,
    "seed": 7,
    "stream_options": {"include_usage": True},
    "metadata": {"team": "a"},
    "store": False,
    "service_tier": "auto",
    "max_completion_tokens": 64,
    "response_format": {"type": "text"},
    "modalities": ["text"],
    "prediction": {"type": "content", "content": "x"},
    "reasoning_effort": "minimal",
    "verbosity": "low",
}


def _chat(s: Any, **body: Any) -> Any:
    return s.client.post("/v1/chat/completions", json={"model": "my-model", "messages": USER, **body})


def test_every_field_is_accepted_and_the_model_named(serve: Any) -> None:
    with serve() as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        history = [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "Look it up."},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
            {"role": "tool", "content": "3 apples", "tool_call_id": "c1"},
            {"role": "user", "content": [{"type": "text", "text": "How many apples?"}]},
        ]
        for extra in ({}, {"context_id": cid}):
            for stream in (False, True):
                r = _chat(s, **NO_OPS, **extra, stream=stream, messages=history)
                assert r.status_code == 200, (extra, stream, r.text)
                if not stream:
                    assert r.json()["model"] == "scripted"  # the model that answered, not "my-model"
                    assert r.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("logprobs", True, "logprobs"),
        ("top_logprobs", 3, "top_logprobs"),
        ("frequency_penalty", 0.5, "frequency_penalty"),
        ("logit_bias", {"42": 10}, "logit_bias"),
        ("tool_choice", "required", "tool_choice"),
        ("tool_choice", {"type": "function", "function": {"name": "lookup"}}, "tool_choice"),
        ("modalities", ["text", "audio"], "modalities"),
        ("web_search_options", {}, "web_search_options"),
        ("max_completion_tokens", 5000, "max_completion_tokens"),
        (
            "messages",
            [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            "messages.0.content",
        ),
    ],
)
def test_what_cannot_be_honoured_is_a_400_naming_the_field(
    serve: Any, field: str, value: Any, param: str
) -> None:
    with serve() as s:
        r = _chat(s, **{field: value})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]
        assert set(error) >= {"message", "type", "param", "code"}


def test_with_a_context_structured_output_and_top_p_are_refused(serve: Any) -> None:
    with serve() as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        r = _chat(s, context_id=cid, response_format={"type": "json_object"})
        assert r.status_code == 400 and r.json()["error"]["param"] == "response_format"
        r = _chat(s, context_id=cid, top_p=0.5)
        assert r.status_code == 400 and r.json()["error"]["param"] == "top_p"


def _stream(s: Any, **body: Any) -> tuple[str, str]:
    client = s.closing(openai.OpenAI(base_url=f"{s.url}/v1", api_key="x", max_retries=0))
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True, **body))  # type: ignore[call-overload]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    return text, finish[-1]


def test_finish_reason_is_length_when_max_tokens_cut(serve: Any) -> None:
    long = "one two three four five six seven eight nine ten"
    with serve(model=ScriptedModel(default=long)) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        for extra in ({}, {"context_id": cid}):
            cut = _chat(s, max_tokens=3, **extra).json()["choices"][0]
            assert (cut["message"]["content"], cut["finish_reason"]) == ("one two three", "length")
            whole = _chat(s, max_tokens=64, **extra).json()["choices"][0]
            assert whole["finish_reason"] == "stop"
            assert _stream(s, max_completion_tokens=3, extra_body=extra) == ("one two three", "length")
            assert _stream(s, max_completion_tokens=64, extra_body=extra)[1] == "stop"


def test_stop_sequences_end_the_text(serve: Any) -> None:
    with serve(model=ScriptedModel(default="alpha beta END gamma")) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        for extra in ({}, {"context_id": cid}):
            choice = _chat(s, stop=["END", "zzz"], **extra).json()["choices"][0]
            assert (choice["message"]["content"], choice["finish_reason"]) == ("alpha beta ", "stop")
            assert _stream(s, stop="END", extra_body=extra) == ("alpha beta ", "stop")


def test_response_format_and_seed_reach_the_backend(serve: Any) -> None:
    model = ScriptedModel(default='{"apples": 42}')
    schema = {"type": "object", "properties": {"apples": {"type": "integer"}}, "required": ["apples"]}
    with serve(model=model) as s:
        fmt = {"type": "json_schema", "json_schema": {"name": "count", "schema": schema, "strict": True}}
        assert _chat(s, response_format=fmt, seed=11).status_code == 200
        params = model.calls[-1][1]
        assert (params.json_schema, params.seed) == (schema, 11)
        assert _chat(s, response_format={"type": "json_object"}).status_code == 200
        assert model.calls[-1][1].json_schema == {"type": "object"}


class OneAtATime(DelegatingModel):
    """Like an embedded model: one call at a time, the others wait for the lock."""

    def __init__(self, inner: ScriptedModel) -> None:
        super().__init__(inner)
        self.lock = threading.Lock()

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        with self.lock:
            started = time.perf_counter()
            done = self.inner.complete(messages, params)
            return Completion(
                done.texts, done.usage, done.model, time.perf_counter() - started, 0.0, done.finish_reasons
            )


def test_latency_is_what_the_caller_saw_with_the_queue_wait_apart(serve: Any) -> None:
    with serve(model=OneAtATime(ScriptedModel(default="The answer is 42.", delay_s=0.6))) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        with ThreadPoolExecutor(3) as pool:
            replies = list(pool.map(lambda _: _chat(s, context_id=cid).json()["sleeptime"], range(3)))
        for r in replies:
            assert r["latency_s"] >= r["queue_wait_s"] >= 0 and r["latency_s"] >= 0.6
        waits = sorted(r["queue_wait_s"] for r in replies)
        assert waits[-1] >= 1.0  # the last one waited for two calls before it
        stored = s.client.get(f"/contexts/{cid}/queries").json()["data"]
        assert sorted(q["queue_wait_s"] for q in stored) == pytest.approx(waits, abs=0.05)
        assert all(q["latency_s"] >= 0.6 + q["queue_wait_s"] - 0.05 for q in stored)
        with ThreadPoolExecutor(2) as pool:
            asks = list(
                pool.map(
                    lambda _: s.client.post(f"/contexts/{cid}/ask", json={"question": "How many?"}).json(),
                    range(2),
                )
            )
        assert max(a["queue_wait_s"] for a in asks) >= 0.5 and all(a["latency_s"] >= 0.6 for a in asks)
