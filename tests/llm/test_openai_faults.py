"""OpenAIModel against a scripted OpenAI-compatible server on loopback: every fault
becomes the right sleeptime error after the right number of attempts."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from sleeptime.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigurationError,
    ContextTooLongError,
    MalformedOutputError,
    RateLimitedError,
    SleeptimeError,
)
from sleeptime.llm.base import LLM, Message, SamplingParams, ScoringLLM, StreamingLLM
from sleeptime.llm.openai import OpenAIModel

from .fault_server import (
    FaultServer,
    Reply,
    chat,
    echo_logprobs,
    empty_choices,
    error,
    hang,
    malformed_json,
    null_content,
    streamed,
)

pytestmark = pytest.mark.timeout(60)

SECRET = "sk-test-VERY-SECRET-0123456789"
PROMPT = "the quarterly numbers of the secret project"
MESSAGES: list[Message] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]
PARAMS = SamplingParams(max_tokens=32)
ATTEMPTS = 3


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    srv = FaultServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def fault(server: FaultServer) -> FaultServer:
    server.reset()
    return server


@pytest.fixture
def make_model(fault: FaultServer) -> Iterator[Callable[..., OpenAIModel]]:
    made: list[OpenAIModel] = []

    def make(**kwargs: Any) -> OpenAIModel:
        options: dict[str, Any] = {
            "base_url": fault.url,
            "api_key": SECRET,
            "timeout_s": 5.0,
            "max_retries": ATTEMPTS,
            "retry_base_delay": 0.01,
            "retry_max_delay": 2.0,
        }
        model = OpenAIModel("fault-model", **(options | kwargs))
        made.append(model)
        return model

    yield make
    for model in made:
        model.close()


@pytest.fixture
def model(make_model: Callable[..., OpenAIModel]) -> OpenAIModel:
    return make_model()


def chat_requests(fault: FaultServer) -> list[dict[str, Any]]:
    return [r.body for r in fault.requests if r.path.endswith("/chat/completions")]


def assert_clean(err: BaseException) -> None:
    """Neither the API key nor the prompt leaks into what users and logs see."""
    assert isinstance(err, SleeptimeError)
    for shown in (str(err), repr(err), err.message, err.hint):
        assert SECRET not in shown
        assert PROMPT not in shown


# -- the happy path and what is sent -------------------------------------------------


def test_implements_the_protocols(model: OpenAIModel) -> None:
    assert isinstance(model, LLM) and isinstance(model, StreamingLLM) and isinstance(model, ScoringLLM)
    assert model.name == "fault-model"
    assert model.context_window == 8192
    assert model.count_tokens("abcdefgh") == 2 and model.count_tokens("abcdefghi") == 3


def test_complete_returns_text_usage_and_sends_params(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(chat("Hello there", reasoning_tokens=3))
    params = SamplingParams(max_tokens=17, temperature=0.3, top_p=0.9, seed=5, stop=("\n\n",))
    out = model.complete(MESSAGES, params)
    assert out.text == "Hello there" and out.texts == ("Hello there",)
    assert (out.usage.prompt_tokens, out.usage.completion_tokens, out.usage.reasoning_tokens) == (11, 7, 3)
    assert out.usage.calls == 1
    assert out.finish_reasons == ("stop",) and out.model == "fault-model"
    # Not streamed: the first token comes with the whole reply.
    assert out.time_to_first_token_s is not None and 0 < out.time_to_first_token_s <= out.latency_s
    [sent] = fault.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    body = sent.body
    assert body["model"] == "fault-model" and body["messages"] == MESSAGES
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["seed"]) == (17, 0.3, 0.9, 5)
    assert body["stop"] == ["\n\n"]
    assert "reasoning_effort" not in body and "response_format" not in body and "n" not in body


def test_missing_usage_is_estimated(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(chat("four", usage=False))
    out = model.complete(MESSAGES, PARAMS)
    prompt = sum(model.count_tokens(m["content"]) for m in MESSAGES)
    assert (out.usage.prompt_tokens, out.usage.completion_tokens, out.usage.calls) == (prompt, 1, 1)


def test_n_is_passed_through(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(chat("a", "b", "c"))
    out = model.complete(MESSAGES, SamplingParams(n=3, temperature=1.0, seed=7))
    assert out.texts == ("a", "b", "c")
    assert [b["n"] for b in chat_requests(fault)] == [3]


def test_servers_ignoring_n_get_one_call_per_sample(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(chat("a"), chat("b"), chat("c"), chat("d"))
    out = model.complete(MESSAGES, SamplingParams(n=2, seed=7))
    assert out.texts == ("a", "b") and out.usage.calls == 2 and out.usage.prompt_tokens == 22
    first, second = chat_requests(fault)
    assert (first["n"], first["seed"]) == (2, 7)
    assert "n" not in second and second["seed"] == 8
    # Remembered: the next call does not ask for n at all.
    model.complete(MESSAGES, SamplingParams(n=2, seed=7))
    assert all("n" not in b for b in chat_requests(fault)[2:])


def test_extra_body_reasoning_effort_and_json_schema_are_sent(
    make_model: Callable[..., OpenAIModel], fault: FaultServer
) -> None:
    model = make_model(extra_body={"top_k": 20})
    schema: dict[str, object] = {"type": "object", "properties": {"a": {"type": "string"}}}
    fault.script(chat('{"a": "x"}'))
    model.complete(MESSAGES, SamplingParams(reasoning_effort="low", json_schema=schema))
    [body] = chat_requests(fault)
    assert body["top_k"] == 20 and body["reasoning_effort"] == "low"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": True},
    }


def test_rejected_reasoning_effort_is_dropped_once_and_remembered(
    model: OpenAIModel, fault: FaultServer
) -> None:
    fault.script(
        error(400, "Unrecognized request argument supplied: reasoning_effort"), chat("ok"), chat("again")
    )
    params = SamplingParams(reasoning_effort="high")
    assert model.complete(MESSAGES, params).text == "ok"
    assert model.complete(MESSAGES, params).text == "again"
    assert ["reasoning_effort" in b for b in chat_requests(fault)] == [True, False, False]


def test_rejected_json_schema_falls_back_to_json_object(model: OpenAIModel, fault: FaultServer) -> None:
    # FastAPI's validation error, as llama-cpp-python's server sends it; "input" echoes the request.
    detail = [{"loc": ["body", "response_format", "type"], "msg": "Input should be 'text' or 'json_object'"}]
    rejected = Reply(
        422,
        b'{"detail": %s}' % str(detail).replace("'", '"').encode(),
        (("Content-Type", "application/json"),),
    )
    fault.script(rejected, chat("{}"))
    schema: dict[str, object] = {"type": "object"}
    model.complete(MESSAGES, SamplingParams(json_schema=schema))
    first, second = chat_requests(fault)
    assert first["response_format"]["type"] == "json_schema"
    assert second["response_format"] == {"type": "json_object", "schema": schema}


def test_json_object_rejected_too_is_an_error_not_a_loop(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(*[error(400, "response_format is not supported") for _ in range(3)])
    with pytest.raises(BackendError):
        model.complete(MESSAGES, SamplingParams(json_schema={"type": "object"}))
    assert len(fault.requests) == 2


def test_rejected_max_tokens_becomes_max_completion_tokens(model: OpenAIModel, fault: FaultServer) -> None:
    message = (
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens'."
    )
    fault.script(error(400, message, param="max_tokens"), chat("ok"))
    model.complete(MESSAGES, SamplingParams(max_tokens=9))
    first, second = chat_requests(fault)
    assert first["max_tokens"] == 9 and "max_tokens" not in second and second["max_completion_tokens"] == 9


# -- faults ---------------------------------------------------------------------------


def test_503_then_success_recovers(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(error(503, "overloaded"), chat("back"))
    assert model.complete(MESSAGES, PARAMS).text == "back"
    assert len(fault.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_persistent_5xx_is_unavailable_after_all_attempts(
    model: OpenAIModel, fault: FaultServer, status: int
) -> None:
    fault.script(*[error(status, f"internal {SECRET}") for _ in range(ATTEMPTS)])
    with pytest.raises(BackendUnavailableError) as info:
        model.complete(MESSAGES, PARAMS)
    assert len(fault.requests) == ATTEMPTS
    assert info.value.retryable and f"HTTP {status}" in str(info.value) and fault.url in str(info.value)
    assert isinstance(info.value.__cause__, openai.APIStatusError)
    assert_clean(info.value)


def test_the_sdk_does_not_retry_on_its_own(
    make_model: Callable[..., OpenAIModel], fault: FaultServer
) -> None:
    fault.script(error(500), error(500))
    with pytest.raises(BackendUnavailableError):
        make_model(max_retries=1).complete(MESSAGES, PARAMS)
    assert len(fault.requests) == 1


def test_a_given_client_has_its_retries_switched_off(fault: FaultServer) -> None:
    client = openai.OpenAI(base_url=fault.url, api_key=SECRET, max_retries=5)
    try:
        model = OpenAIModel("fault-model", client=client, max_retries=2, timeout_s=5.0, retry_base_delay=0.01)
        fault.script(error(500), error(500), error(500))
        with pytest.raises(BackendUnavailableError) as info:
            model.complete(MESSAGES, PARAMS)
        assert len(fault.requests) == 2
        assert_clean(info.value)
    finally:
        client.close()


def test_429_honours_retry_after(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(error(429, "slow down", headers=[("Retry-After", "1")]), chat("fine"))
    assert model.complete(MESSAGES, PARAMS).text == "fine"
    first, second = fault.requests
    assert second.at - first.at >= 0.9


def test_persistent_429_is_rate_limited_with_retry_after(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(*[error(429, "slow down", headers=[("retry-after-ms", "20")]) for _ in range(ATTEMPTS)])
    with pytest.raises(RateLimitedError) as info:
        model.complete(MESSAGES, PARAMS)
    assert len(fault.requests) == ATTEMPTS
    assert info.value.retry_after == pytest.approx(0.02)
    assert_clean(info.value)


@pytest.mark.timeout(20)
def test_a_hang_times_out_within_timeout_times_attempts(
    make_model: Callable[..., OpenAIModel], fault: FaultServer
) -> None:
    model = make_model(timeout_s=0.5, max_retries=2, retry_base_delay=0.2)
    fault.script(hang(15), hang(15))
    started = time.monotonic()
    with pytest.raises(BackendTimeoutError) as info:
        model.complete(MESSAGES, PARAMS)
    elapsed = time.monotonic() - started
    assert len(fault.requests) == 2
    # The overall deadline is timeout_s * max_retries; the wait between counts against it.
    assert 0.5 <= elapsed < 0.5 * 2 + 0.3
    assert_clean(info.value)


@pytest.mark.parametrize(
    "reply", [malformed_json(), empty_choices(), null_content()], ids=["json", "empty", "null"]
)
def test_unusable_answers_are_malformed_and_retried(
    model: OpenAIModel, fault: FaultServer, reply: Reply
) -> None:
    fault.script(*[reply] * ATTEMPTS)
    with pytest.raises(MalformedOutputError) as info:
        model.complete(MESSAGES, PARAMS)
    assert len(fault.requests) == ATTEMPTS
    assert info.value.retryable
    assert_clean(info.value)


def test_a_non_json_body_is_malformed(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(Reply(200, b"<html>gateway</html>", (("Content-Type", "text/html"),)), chat("ok"))
    assert model.complete(MESSAGES, PARAMS).text == "ok"
    assert len(fault.requests) == 2


def test_malformed_then_good_recovers(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(malformed_json(), empty_choices(), chat("finally"))
    assert model.complete(MESSAGES, PARAMS).text == "finally"


@pytest.mark.parametrize("status", [401, 403])
def test_bad_key_is_a_configuration_error_at_once(
    model: OpenAIModel, fault: FaultServer, status: int
) -> None:
    fault.script(error(status, f"Incorrect API key provided: {SECRET}. Find your key at example.com."))
    with pytest.raises(ConfigurationError) as info:
        model.complete(MESSAGES, PARAMS)
    assert len(fault.requests) == 1
    assert "API key" in info.value.hint
    assert "***" in str(info.value)
    assert_clean(info.value)


def test_unknown_model_is_a_configuration_error_naming_it(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(error(404, "The model `fault-model` does not exist.", code="model_not_found"))
    with pytest.raises(ConfigurationError) as info:
        model.complete(MESSAGES, PARAMS)
    assert "'fault-model'" in str(info.value) and "/v1/models" in info.value.hint
    assert len(fault.requests) == 1


def test_a_wrong_path_is_a_backend_error_about_the_url(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(Reply(404, b'{"detail": "Not Found"}', (("Content-Type", "application/json"),)))
    with pytest.raises(BackendError) as info:
        model.complete(MESSAGES, PARAMS)
    assert not info.value.retryable and "base URL" in info.value.hint


@pytest.mark.parametrize(
    "message",
    [
        "This model's maximum context length is 2048 tokens. However, you requested 4000 tokens.",
        "Requested tokens (3000) exceed context window of 2048",
    ],
)
def test_context_too_long(model: OpenAIModel, fault: FaultServer, message: str) -> None:
    fault.script(error(400, message))
    with pytest.raises(ContextTooLongError):
        model.complete(MESSAGES, PARAMS)
    assert len(fault.requests) == 1


def test_other_4xx_is_a_backend_error_not_retried(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(error(400, "temperature must be at most 2"))
    with pytest.raises(BackendError) as info:
        model.complete(MESSAGES, PARAMS)
    assert type(info.value) is BackendError and not info.value.retryable
    assert "temperature must be at most 2" in str(info.value)
    assert len(fault.requests) == 1


def test_validation_errors_do_not_echo_the_request(model: OpenAIModel, fault: FaultServer) -> None:
    body = b'{"detail": [{"loc": ["body", "messages"], "msg": "bad", "input": "%s %s"}]}' % (
        PROMPT.encode(),
        SECRET.encode(),
    )
    fault.script(Reply(422, body, (("Content-Type", "application/json"),)))
    with pytest.raises(BackendError) as info:
        model.complete(MESSAGES, PARAMS)
    assert "body.messages: bad" in str(info.value)
    assert_clean(info.value)


def test_a_500_reporting_a_validation_error_is_not_retried(model: OpenAIModel, fault: FaultServer) -> None:
    # What llama-cpp-python's server sends for a request its pydantic models reject.
    message = (
        "1 validation error: {'type': 'string_type', 'loc': ('body', 'messages', 1, 'content'), "
        f"'msg': 'Input should be a valid string', 'input': '{PROMPT}'}}"
    )
    fault.script(error(500, message), chat("never"))
    with pytest.raises(BackendError) as info:
        model.complete(MESSAGES, PARAMS)
    assert not info.value.retryable and "validation error" in str(info.value)
    assert len(fault.requests) == 1
    assert_clean(info.value)


def test_connection_refused_is_unavailable(make_model: Callable[..., OpenAIModel]) -> None:
    dead = FaultServer().start()
    url = dead.url
    dead.stop()  # nothing listens on that port any more
    model = make_model(base_url=url)
    with pytest.raises(BackendUnavailableError) as info:
        model.complete(MESSAGES, PARAMS)
    assert url in str(info.value)
    assert_clean(info.value)


# -- streaming ----------------------------------------------------------------------


def test_stream_yields_pieces_and_records_usage(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(streamed("Hel", "lo", " world"))
    stream = model.stream(MESSAGES, SamplingParams(n=3, seed=1))
    assert list(stream) == ["Hel", "lo", " world"]
    assert stream.usage is not None and (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (5, 3)
    assert stream.time_to_first_token_s is not None and stream.latency_s is not None
    assert 0 <= stream.time_to_first_token_s <= stream.latency_s
    [body] = chat_requests(fault)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True} and "n" not in body


def test_stream_without_usage_estimates_it(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(streamed("abcd", "efgh", usage=False))
    stream = model.stream(MESSAGES, PARAMS)
    assert "".join(stream) == "abcdefgh"
    assert stream.usage is not None and stream.usage.completion_tokens == 2


def test_stream_opening_is_retried(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(error(503), streamed("ok"))
    assert list(model.stream(MESSAGES, PARAMS)) == ["ok"]
    assert len(fault.requests) == 2


def test_stream_drops_rejected_stream_options(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(error(400, "unknown field stream_options"), streamed("x"), streamed("y"))
    assert list(model.stream(MESSAGES, PARAMS)) == ["x"]
    assert list(model.stream(MESSAGES, PARAMS)) == ["y"]
    assert ["stream_options" in b for b in chat_requests(fault)] == [True, False, False]


def test_stream_errors_are_translated(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(*[error(401, "no")])
    with pytest.raises(ConfigurationError):
        list(model.stream(MESSAGES, PARAMS))


def test_a_stream_closed_early_releases_the_connection(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(streamed("a", "b", "c"), chat("next"))
    with model.stream(MESSAGES, PARAMS) as stream:
        assert next(stream) == "a"
    assert model.complete(MESSAGES, PARAMS).text == "next"


# -- scoring ------------------------------------------------------------------------

PREFIX: list[Message] = [{"role": "user", "content": "The capital of France is"}]
TOKENS = ["user", ":", " The", " capital", " of", " France", " is"]


def test_logprob_sums_the_continuation_tokens(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(echo_logprobs([*TOKENS, " Par", "is"], [None, -5, -3, -8, -0.5, -4, -0.6, -0.25, -0.5]))
    assert model.logprob(PREFIX, " Paris") == pytest.approx(-0.75)
    [sent] = fault.requests
    assert sent.path == "/v1/completions"
    assert sent.body["prompt"] == "user: The capital of France is Paris"
    assert (sent.body["echo"], sent.body["logprobs"], sent.body["max_tokens"]) == (True, 1, 1)


def test_logprob_counts_a_token_straddling_the_boundary(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(echo_logprobs(["user", ":", " ab", "cd"], [None, -1.0, -2.0, -3.0]))
    assert model.logprob([{"role": "user", "content": "a"}], "bcd") == pytest.approx(-5.0)


def test_logprob_of_nothing_is_zero_without_a_call(model: OpenAIModel, fault: FaultServer) -> None:
    assert model.logprob(PREFIX, "") == 0.0
    assert fault.requests == []


def test_logprob_refuses_shifted_logprobs(model: OpenAIModel, fault: FaultServer) -> None:
    # A token was generated (text is longer) but has no entry: llama-cpp-python's misalignment.
    shifted = echo_logprobs([*TOKENS, " Paris"], [None, -5, -3, -8, -0.5, -4, -0.6, -8.0], generated=None)
    shifted = Reply(
        shifted.status,
        shifted.body.replace(
            b'"text": "user: The capital of France is Paris"',
            b'"text": "user: The capital of France is Paris."',
        ),
        shifted.headers,
    )
    fault.script(shifted)
    with pytest.raises(BackendError) as info:
        model.logprob(PREFIX, " Paris")
    assert "shifted" in str(info.value) and "add_bos_token" in info.value.hint
    assert len(fault.requests) == 1


def test_logprob_without_echo_support_is_a_clear_error(model: OpenAIModel, fault: FaultServer) -> None:
    no_echo = echo_logprobs(
        ["."], [-0.1], generated=None
    )  # only the generated token, like llama.cpp's server
    fault.script(no_echo)
    with pytest.raises(BackendError, match="no logprobs for the prompt") as info:
        model.logprob(PREFIX, " Paris")
    assert "vLLM" in info.value.hint


def test_logprob_on_a_server_without_completions(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(Reply(404, b'{"detail": "Not Found"}', (("Content-Type", "application/json"),)))
    with pytest.raises(BackendError) as info:
        model.logprob(PREFIX, " Paris")
    assert "/v1/completions" in str(info.value) and "echo" in info.value.hint


def test_logprob_retries_retryable_faults(model: OpenAIModel, fault: FaultServer) -> None:
    fault.script(error(503), echo_logprobs([*TOKENS, " Paris"], [None, -5, -3, -8, -0.5, -4, -0.6, -0.2]))
    value = model.logprob(PREFIX, " Paris")
    assert math.isclose(value, -0.2) and len(fault.requests) == 2


# -- the translation boundary on its own ---------------------------------------------


def test_retry_after_header_forms() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    import httpx

    from sleeptime.llm.openai_errors import retry_after_s

    assert retry_after_s(httpx.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_s(httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    assert retry_after_s(httpx.Headers({})) is None
    assert retry_after_s(httpx.Headers({"retry-after": "soon"})) is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_s(httpx.Headers({"retry-after": later})) or 0) <= 30


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        ("connect", BackendUnavailableError),
        ("read-timeout", BackendTimeoutError),
        ("json", MalformedOutputError),
    ],
)
def test_raw_transport_and_parse_errors_are_translated(raised: str, expected: type[SleeptimeError]) -> None:
    import json

    import httpx

    from sleeptime.llm.openai_errors import map_backend_errors

    errors: dict[str, Exception] = {
        "connect": httpx.ConnectError("refused"),
        "read-timeout": httpx.ReadTimeout("slow"),
        "json": json.JSONDecodeError("Expecting value", "", 0),
    }
    with pytest.raises(expected) as info, map_backend_errors("openai", base_url="http://127.0.0.1:1/v1"):
        raise errors[raised]
    assert info.value.__cause__ is errors[raised]
    assert "openai backend at http://127.0.0.1:1/v1" in str(info.value)


def test_programmer_errors_pass_through_the_boundary() -> None:
    from sleeptime.llm.openai_errors import map_backend_errors

    with pytest.raises(TypeError), map_backend_errors("openai"):
        raise TypeError("bug")


def test_the_sdks_own_http_client_errors_are_translated_too() -> None:
    httpx2 = pytest.importorskip("httpx2", reason="openai < 3 uses httpx itself")
    from sleeptime.llm.openai_errors import map_backend_errors

    with pytest.raises(BackendUnavailableError), map_backend_errors("openai"):
        raise httpx2.RemoteProtocolError("peer closed connection")
    with pytest.raises(BackendTimeoutError), map_backend_errors("openai"):
        raise httpx2.ReadTimeout("slow")


def test_prepare_prefix_sends_one_short_request_and_reports_cached_tokens(
    model: OpenAIModel, fault: FaultServer
) -> None:
    fault.script(chat("x", cached_tokens=8))
    variants = [[*MESSAGES[:-1], {"role": "user", "content": f"{MESSAGES[-1]['content']} {q}"}] for q in "ab"]
    report = model.prepare_prefix(variants, owner="ctx")
    [sent] = fault.requests
    assert sent.body["max_tokens"] == 1 and sent.body["messages"] == variants[0]
    assert (report.tokens, report.cached_tokens, report.evaluated) == (11, 8, 3)
    assert model.retain_prefixes("ctx", []) == 0
