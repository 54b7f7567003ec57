"""The official ``openai`` client and LangChain's ``ChatOpenAI``, unchanged, against a real
server on loopback answering with SmolLM2."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from .conftest import Served, serving

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."
QUESTION = [{"role": "user", "content": "How many apples does Alice have now?"}]
SCHEMA = {
    "title": "AppleCount",
    "description": "How many apples.",
    "type": "object",
    "properties": {"apples": {"type": "integer"}},
    "required": ["apples"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def server(smollm2: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('clients') / 'clients.db'}"
    with serving(url, model=smollm2, ask_budget={"max_tokens": 24}) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        yield s, cid


def _client(s: Served, cid: str | None = None) -> openai.OpenAI:
    headers = {"X-Sleeptime-Context": cid} if cid else None
    return s.closing(
        openai.OpenAI(base_url=f"{s.url}/v1", api_key="st_any", default_headers=headers, max_retries=0)
    )


def test_openai_sync_stream_and_options(server: tuple[Served, str]) -> None:
    s, cid = server
    client = _client(s, cid)
    reply = client.chat.completions.create(
        model="anything",
        messages=QUESTION,
        logprobs=False,
        max_completion_tokens=16,
        seed=1,  # type: ignore[arg-type]
    )
    choice = reply.choices[0]
    assert choice.message.content and reply.model == "smollm2-135m"
    assert choice.finish_reason in ("stop", "length") and reply.usage is not None
    assert reply.model_extra["sleeptime"]["source"] == "raw"  # type: ignore[index]
    cut = client.chat.completions.create(model="m", messages=QUESTION, max_completion_tokens=2)  # type: ignore[arg-type]
    assert cut.choices[0].finish_reason == "length"
    pieces, finish = [], None
    for chunk in client.chat.completions.create(
        model="m",
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=12,  # type: ignore[arg-type]
    ):
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
    assert "".join(pieces).strip() and finish in ("stop", "length")


def test_openai_async(server: tuple[Served, str]) -> None:
    s, cid = server

    async def ask() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=f"{s.url}/v1",
            api_key="st_any",
            default_headers={"X-Sleeptime-Context": cid},
            max_retries=0,
        ) as client:
            replies = await asyncio.gather(
                *(
                    client.chat.completions.create(model="m", messages=QUESTION, max_tokens=8)
                    for _ in range(2)
                )  # type: ignore[arg-type]
            )
            return [r.choices[0].message.content or "" for r in replies]

    assert all(text.strip() for text in asyncio.run(ask()))


def test_openai_response_format(server: tuple[Served, str]) -> None:
    s, _ = server
    client = _client(s)
    fmt = {"type": "json_schema", "json_schema": {"name": "count", "schema": SCHEMA, "strict": True}}
    reply = client.chat.completions.create(
        model="m",
        messages=[
            {"role": "user", "content": f"{TEXT} How many apples does Alice have now? Answer in JSON."}
        ],
        response_format=fmt,  # type: ignore[arg-type]
        max_completion_tokens=32,
    )
    data = json.loads(reply.choices[0].message.content or "")
    assert isinstance(data["apples"], int)
    obj = client.chat.completions.create(
        model="m",
        messages=QUESTION,
        response_format={"type": "json_object"},
        max_completion_tokens=32,  # type: ignore[arg-type]
    )
    assert isinstance(json.loads(obj.choices[0].message.content or ""), dict)


def test_langchain_chat_openai(server: tuple[Served, str]) -> None:
    from langchain_openai import ChatOpenAI

    s, cid = server
    common: dict[str, Any] = {
        "base_url": f"{s.url}/v1",
        "api_key": "st_any",
        "model": "sleeptime",
        "max_retries": 0,
    }
    chat = ChatOpenAI(**common, max_completion_tokens=12, default_headers={"X-Sleeptime-Context": cid})
    assert str(chat.invoke("How many apples does Alice have now?").content).strip()
    assert "".join(str(c.content) for c in chat.stream("How many apples?")).strip()
    batch = chat.batch(["How many apples?", "Who buys apples?"])
    assert len(batch) == 2 and all(str(m.content).strip() for m in batch)
    structured = ChatOpenAI(**common, max_completion_tokens=32).with_structured_output(SCHEMA)
    data = structured.invoke(f"{TEXT} How many apples does Alice have now?")
    assert isinstance(data, dict) and isinstance(data["apples"], int)
    queries = s.client.get(f"/contexts/{cid}/queries", params={"limit": 100}).json()["data"]
    assert len(queries) >= 4  # invoke, stream, batch: recorded as questions about the context
