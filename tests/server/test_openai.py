"""The OpenAI-compatible endpoint, driven by the official ``openai`` client."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest

from sleeptime.llm.fake import ScriptedModel

from .conftest import NOTES, serving

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."


def _client(s: Any, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{s.url}/v1", api_key="unused-in-single-user-mode", max_retries=0, **kwargs
    )


def test_openai_client_with_and_without_a_context(serve: Any) -> None:
    model = ScriptedModel(default=NOTES)
    with serve(model=model) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        s.client.post(f"/contexts/{cid}/sleep", json={})
        assert s.step()
        client = s.closing(_client(s, default_headers={"X-Sleeptime-Context": cid}))
        assert [m.id for m in client.models.list()] == ["scripted"]

        reply = client.chat.completions.create(
            model="anything", messages=[{"role": "user", "content": "How many apples?"}]
        )
        assert reply.choices[0].message.content == NOTES and reply.usage is not None
        assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
        extension = reply.model_extra["sleeptime"]  # type: ignore[index]
        assert extension["source"] == "learned" and extension["learned_context_id"]

        plain = s.closing(_client(s))
        stream = plain.chat.completions.create(
            model="anything",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How many?"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"context_id": cid},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == NOTES and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
        queries = s.client.get(f"/contexts/{cid}/queries").json()["data"]
        assert [q["answer"] for q in queries] == [NOTES, NOTES] and queries[0]["question"] == "How many?"

        model.extend(["plain answer"])
        direct = plain.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])
        assert direct.choices[0].message.content == "plain answer"
        assert "sleeptime" not in (direct.model_extra or {})
        assert model.calls[-1][0] == [{"role": "user", "content": "hi"}]


def test_openai_errors(serve: Any) -> None:
    with serve() as s:
        client = s.closing(_client(s))
        with pytest.raises(openai.NotFoundError, match="no context"):
            client.chat.completions.create(
                model="x", messages=[{"role": "user", "content": "q"}], extra_body={"context_id": "missing"}
            )
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(
                model="x", messages=[{"role": "user", "content": "q"}], n=2, stream=True
            )
        with pytest.raises(openai.UnprocessableEntityError):
            client.chat.completions.create(model="x", messages=[{"role": "robot", "content": "q"}])  # type: ignore[list-item,misc]
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        with pytest.raises(openai.BadRequestError, match="no user message"):
            client.chat.completions.create(
                model="x", messages=[{"role": "system", "content": "s"}], extra_body={"context_id": cid}
            )
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("not-a-model")


def test_smollm2_end_to_end(smollm2: Any, sqlite_url: str) -> None:
    """The real small model: sleep through the API, then the openai client answers from the
    learned context, streamed and not. Prints the latencies measured."""
    with serving(sqlite_url, model=smollm2, sleep_budget={"rounds": 1, "k": 1, "max_tokens": 96}) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        started = time.perf_counter()
        r = s.client.post(f"/contexts/{cid}/sleep", json={"wait": True, "timeout_s": 1})
        assert r.status_code == 202
        assert s.step()
        sleep_s = time.perf_counter() - started
        [lc] = s.client.get(f"/contexts/{cid}/learned").json()["data"]
        assert lc["text"].strip() and lc["usage"]["completion_tokens"] > 0

        started = time.perf_counter()
        answer = s.client.post(
            f"/contexts/{cid}/ask", json={"question": "How many apples does Alice have now?"}
        )
        ask_s = time.perf_counter() - started
        assert answer.json()["source"] == "learned" and answer.json()["answer"].strip()

        client = s.closing(_client(s, default_headers={"X-Sleeptime-Context": cid}))
        started = time.perf_counter()
        reply = client.chat.completions.create(
            model="smollm2-135m",
            messages=[{"role": "user", "content": "How many apples does Alice have now?"}],
        )
        chat_s = time.perf_counter() - started
        assert reply.choices[0].message.content and reply.model == "smollm2-135m"
        assert reply.model_extra["sleeptime"]["source"] == "learned"  # type: ignore[index]

        started = time.perf_counter()
        first: float | None = None
        pieces = []
        for chunk in client.chat.completions.create(
            model="smollm2-135m", messages=[{"role": "user", "content": "How many apples?"}], stream=True
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                first = first or time.perf_counter() - started
                pieces.append(chunk.choices[0].delta.content)
        assert "".join(pieces).strip() and first is not None
        print(
            f"\nsmollm2 via server: sleep {sleep_s:.2f}s, ask {ask_s * 1000:.0f} ms, "
            f"chat {chat_s * 1000:.0f} ms, stream first token {first * 1000:.0f} ms"
        )
