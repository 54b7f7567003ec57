"""OpenAIModel against a real OpenAI-compatible server: llama-cpp-python's, serving SmolLM2-135M."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sleeptime import Budget, Engine
from sleeptime.errors import BackendError, BackendUnavailableError, ContextTooLongError
from sleeptime.llm.base import Message, SamplingParams
from sleeptime.llm.openai import OpenAIModel

pytestmark = pytest.mark.timeout(600)

QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
# llama-cpp-python's server pairs each echoed prompt token with the logits *after* it unless
# the prompt starts with BOS (abetlen/llama-cpp-python#1983). SmolLM2 adds no BOS by default,
# so the server under test is told to add one; test_misaligned_server_is_refused covers the default.
ADD_BOS = ("--kv_overrides", "tokenizer.ggml.add_bos_token=bool:true")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def llama_server(model_path: Path, log_path: Path, *extra: str, n_ctx: int = 2048) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free loopback port; yield its base URL."""
    port = _free_port()
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", "smollm2"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), *extra]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"llama_cpp.server exited with {proc.returncode}: {log_path.read_text()[-2000:]}"
                    )
                try:
                    if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.25)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@pytest.fixture(scope="module")
def model(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenAIModel]:
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(smollm2_path, log, *ADD_BOS) as url:
        llm = OpenAIModel("smollm2", base_url=url, timeout_s=120.0, max_retries=2, context_window=2048)
        yield llm
        llm.close()


def test_complete(model: OpenAIModel) -> None:
    out = model.complete(QUESTION, SamplingParams(max_tokens=16))
    assert out.text.strip()
    assert out.usage.prompt_tokens > 0 and out.usage.completion_tokens > 0 and out.usage.calls == 1
    assert out.usage.completion_tokens <= 16
    assert out.latency_s > 0
    assert out.finish_reasons[0] in ("stop", "length")


def test_seed_temperature_and_n_pass_through(model: OpenAIModel) -> None:
    hot = SamplingParams(max_tokens=12, temperature=1.2, seed=1234)
    assert model.complete(QUESTION, hot).text == model.complete(QUESTION, hot).text
    # At temperature 0 the seed does not matter.
    cold = [model.complete(QUESTION, SamplingParams(max_tokens=8, seed=s)).text for s in (1, 2)]
    assert cold[0] == cold[1]
    # This server ignores n; OpenAIModel asks once per sample instead.
    many = model.complete(QUESTION, SamplingParams(max_tokens=8, temperature=1.0, seed=3, n=3))
    assert len(many.texts) == 3 and many.usage.calls == 3


def test_stream(model: OpenAIModel) -> None:
    params = SamplingParams(max_tokens=24)
    with model.stream(QUESTION, params) as stream:
        pieces = list(stream)
    assert len(pieces) > 1
    assert "".join(pieces).strip()
    assert "".join(pieces) == model.complete(QUESTION, params).text
    assert stream.time_to_first_token_s is not None and stream.latency_s is not None
    assert 0 < stream.time_to_first_token_s <= stream.latency_s
    assert stream.usage is not None and stream.usage.completion_tokens > 0


def test_json_schema_falls_back_to_the_servers_json_mode(model: OpenAIModel) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"capital": {"type": "string", "maxLength": 20}},
        "required": ["capital"],
    }
    out = model.complete(QUESTION, SamplingParams(max_tokens=48, json_schema=schema))
    assert isinstance(json.loads(out.text)["capital"], str)


def test_logprob(model: OpenAIModel) -> None:
    prefix: list[Message] = [{"role": "user", "content": "The capital of France is"}]
    paris = model.logprob(prefix, " Paris")
    banana = model.logprob(prefix, " banana")
    for value in (paris, banana):
        assert math.isfinite(value) and value < 0
    assert paris > banana
    assert model.logprob(prefix, " Paris, and the capital of Italy is Rome.") < paris


def test_context_too_long(model: OpenAIModel) -> None:
    huge: list[Message] = [{"role": "user", "content": "word " * 5000}]
    with pytest.raises(ContextTooLongError):
        model.complete(huge, SamplingParams(max_tokens=4))


def test_misaligned_server_is_refused(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    log = tmp_path_factory.mktemp("llama-server-default") / "server.log"
    # A small window: this server computes logprobs over all n_ctx rows of logits.
    with (
        llama_server(smollm2_path, log, n_ctx=256) as url,
        OpenAIModel("smollm2", base_url=url, max_retries=1) as plain,
    ):
        with pytest.raises(BackendError) as info:
            plain.logprob([{"role": "user", "content": "The capital of France is"}], " Paris")
        assert "shifted" in str(info.value) and "add_bos_token" in info.value.hint


def test_engine_sleeps_and_answers_through_the_endpoint(model: OpenAIModel, tmp_path: Path) -> None:
    """The whole engine path (sleep, ask, baseline) over HTTP, as with vLLM or Ollama."""
    engine = Engine(
        model=model,
        store=f"sqlite:///{tmp_path / 'openai.db'}",
        sleep_budget=Budget(questions=2, votes=2, max_tokens=48),
    )
    ctx = engine.add_context("Tom has 3 boxes with 4 balls each.")
    learned = engine.sleep(ctx.id)  # solve: its votes go to the endpoint in parallel
    assert learned.strategy == "solve" and learned.entries is not None and learned.model == "smollm2"
    assert 2 <= learned.usage.calls <= 1 + 2 * (2 + 1)
    rethink = engine.sleep(ctx.id, Budget(rounds=1, k=2, max_tokens=48), strategy="rethink")
    assert len(rethink.notes) == 2 and rethink.usage.calls == 2
    answer = engine.ask(ctx.id, "How many balls?", Budget(max_tokens=24))
    assert answer.source == "learned" and answer.usage.completion_tokens > 0
    baseline = engine.ask(ctx.id, "How many balls?", Budget(max_tokens=24), use_learned=False)
    assert baseline.usage.prompt_tokens < answer.usage.prompt_tokens
    engine.store.close()


def test_engine_by_spec_reports_an_unreachable_endpoint(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    engine = Engine(
        model="openai:some-model",
        store=f"sqlite:///{tmp_path / 'x.db'}",
        openai_base_url=f"http://127.0.0.1:{port}/v1",
        max_retries=2,
        request_timeout_s=5,
    )
    ctx = engine.store.add_context("text", {})
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as err:
        engine.ask(ctx.id, "q?")
    assert time.monotonic() - started < 30
    assert f"127.0.0.1:{port}" in str(err.value)
    engine.close()
