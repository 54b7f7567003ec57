"""The HTTP API against a real server, on SQLite and PostgreSQL, with a scripted model."""

from __future__ import annotations

from typing import Any

from sleeptime.llm.fake import ScriptedModel

from .conftest import NOTES

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."


def _create(s: Any, text: str = TEXT, **extra: Any) -> dict[str, Any]:
    r = s.client.post("/contexts", json={"text": text, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_context_lifecycle(serve: Any) -> None:
    with serve() as s:
        made = _create(s, metadata={"source": "test"})
        cid = made["id"]
        assert (made["version"], made["metadata"], made["text"]) == (1, {"source": "test"}, TEXT)
        assert made["sleep_job"]["status"] == "queued"

        got = s.client.get(f"/contexts/{cid}").json()
        assert (got["text"], got["learned_context_id"], got["sleep_job"]["id"]) == (
            TEXT,
            None,
            made["sleep_job"]["id"],
        )

        r = s.client.put(f"/contexts/{cid}", json={"text": "Bob has 5 pears."})
        assert r.status_code == 200 and r.json()["version"] == 2
        r = s.client.post(f"/contexts/{cid}/append", json={"text": "He eats 2."})
        assert r.json()["version"] == 3 and r.json()["text"] == "Bob has 5 pears.\nHe eats 2."
        assert s.client.get(f"/contexts/{cid}", params={"version": 1}).json()["text"] == TEXT
        # one queued job follows the edits (debounce), never one per edit
        jobs = s.client.get(f"/contexts/{cid}/jobs").json()["data"]
        assert [(j["status"], j["version"]) for j in jobs] == [("queued", 3)]

        assert s.client.delete(f"/contexts/{cid}").status_code == 204
        r = s.client.get(f"/contexts/{cid}")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
        assert s.client.delete(f"/contexts/{cid}").status_code == 404


def test_list_is_paginated(serve: Any) -> None:
    with serve() as s:
        ids = [_create(s, f"context number {i}")["id"] for i in range(5)]
        page = s.client.get("/contexts", params={"limit": 2}).json()
        assert [c["id"] for c in page["data"]] == ids[:2] and page["next_offset"] == 2
        assert all(c["text"] is None for c in page["data"])
        last = s.client.get("/contexts", params={"limit": 2, "offset": 4}).json()
        assert [c["id"] for c in last["data"]] == ids[4:] and last["next_offset"] is None


def test_ask_sleep_learned_queries_and_stats(serve: Any) -> None:
    model = ScriptedModel(default=NOTES)
    with serve(model=model, sleep_strategy="rethink") as s:  # one scripted call per round
        cid = _create(s)["id"]
        raw = s.client.post(f"/contexts/{cid}/ask", json={"question": "How many apples?"}).json()
        assert raw["source"] == "raw" and raw["learned_context_id"] is None and "raw context" in raw["note"]

        r = s.client.post(f"/contexts/{cid}/sleep", json={"budget": {"rounds": 1}})
        assert r.status_code == 202 and r.json()["job"]["status"] == "queued"
        assert s.step()  # due now, whatever the idle delay
        answer = s.client.post(
            f"/contexts/{cid}/ask", json={"question": "How many apples?", "budget": {"verbosity": 1}}
        ).json()
        assert answer["source"] == "learned" and answer["learned_context_id"]
        assert answer["usage"]["completion_tokens"] > 0 and answer["budget"]["verbosity"] == 1
        baseline = s.client.post(
            f"/contexts/{cid}/ask", json={"question": "How many?", "baseline": True}
        ).json()
        assert baseline["source"] == "raw" and baseline["escalated"] is False

        learned = s.client.get(f"/contexts/{cid}/learned").json()
        [lc] = learned["data"]
        assert lc["id"] == answer["learned_context_id"] and lc["current"] and "42" in lc["text"]
        [run] = lc["runs"]
        assert run["status"] == "done" and run["usage"]["calls"] == 1 and run["duration_s"] >= 0
        assert run["changes"]["chars_after"] == len(lc["text"]) and run["model"] == "scripted"
        [job] = s.client.get(f"/contexts/{cid}/jobs").json()["data"]
        assert (job["status"], job["learned_context_id"], job["run_id"]) == ("done", lc["id"], run["id"])

        queries = s.client.get(f"/contexts/{cid}/queries", params={"limit": 2}).json()
        assert [q["source"] for q in queries["data"]] == ["raw", "learned"] and queries["next_offset"] == 2
        assert all(q["usage"]["total_tokens"] > 0 for q in queries["data"])

        stats = s.client.get("/stats").json()
        [ctx] = stats["contexts"]
        assert stats["queries_served"] == ctx["queries"] == 3
        assert (ctx["queries_from_learned"], ctx["queries_from_raw"]) == (1, 2)
        assert ctx["sleep_tokens"]["completion_tokens"] == run["usage"]["completion_tokens"]
        assert ctx["sleep_runs"] == 1

        ask = f"/contexts/{cid}/ask"
        cheap = {"question": "How many?", "budget": {"verbosity": 0}}
        kept = s.client.post(ask, json={**cheap, "escalate": {"verbosity": 4, "max_tokens": 64}}).json()
        assert kept["escalated"] is False and kept["budget"]["verbosity"] == 0  # the notes hold the answer
        bad = s.client.post(ask, json={**cheap, "escalate": {"verbosity": 9}})
        assert bad.status_code == 422


def test_break_even_counts_queries(serve: Any) -> None:
    # Answers from notes are short, answers from the raw text long: sleeping pays off.
    model = ScriptedModel(default=NOTES)
    with serve(model=model) as s:
        cid = _create(s)["id"]
        model.extend([lambda m: "word " * 30])  # raw answer: 30 tokens
        s.client.post(f"/contexts/{cid}/ask", json={"question": "q?"})
        s.client.post(f"/contexts/{cid}/sleep", json={})
        s.step()
        model.extend([lambda m: "The answer is 42."] * 3)  # 4 tokens each
        for _ in range(3):
            s.client.post(f"/contexts/{cid}/ask", json={"question": "q?"})
        [ctx] = s.client.get("/stats").json()["contexts"]
        sleep = ctx["sleep_tokens"]["completion_tokens"]
        assert ctx["avg_completion_tokens_raw"] == 30 and ctx["avg_completion_tokens_learned"] == 4
        expected = max(1, -(-sleep // (10 * 26)))
        assert ctx["break_even_queries"] == expected and ctx["paid_off"] is (expected <= 3)


def test_errors_are_json_with_type_message_and_hint(serve: Any) -> None:
    with serve(max_request_bytes=4096, max_context_chars=1000, max_answer_tokens=100) as s:
        cid = _create(s)["id"]
        cases = [
            (s.client.post("/contexts", json={"text": "x" * 1001}), 413, "payload_too_large"),
            (
                s.client.post("/contexts", content=b'{"text": "' + b"x" * 5000 + b'"}'),
                413,
                "payload_too_large",
            ),
            (s.client.post("/contexts", json={"text": "a", "colour": "red"}), 422, "invalid_request"),
            (s.client.post("/contexts", json={"text": ""}), 422, "invalid_request"),
            (s.client.post("/contexts", json={"text": "nul \u0000 here"}), 422, "invalid_request"),
            (
                s.client.post(
                    "/contexts", content=b"{not json", headers={"content-type": "application/json"}
                ),
                422,
                "invalid_request",
            ),
            (
                s.client.post(f"/contexts/{cid}/ask", json={"question": "q", "budget": {"n": 0}}),
                422,
                "invalid_request",
            ),
            (
                s.client.post(f"/contexts/{cid}/ask", json={"question": "q", "budget": {"max_tokens": 101}}),
                400,
                "invalid_request",
            ),
            (s.client.post(f"/contexts/{cid}/append", json={"text": "y" * 990}), 413, "payload_too_large"),
            (s.client.get("/contexts/not-a-context"), 404, "not_found"),
            (s.client.get("/contexts/bad%00id"), 422, "invalid_request"),
            (s.client.get("/contexts", params={"limit": 0}), 422, "invalid_request"),
            (s.client.delete("/contexts"), 405, "method_not_allowed"),
        ]
        for response, status, type_ in cases:
            assert response.status_code == status, (response.request.url, response.text)
            error = response.json()["error"]
            assert error["type"] == type_ and error["message"], error
            assert set(error) == {"type", "message", "hint"}
        # validation errors say where, not what was sent
        r = s.client.post("/contexts", json={"text": "secret text", "metadata": "nope"})
        assert "metadata" in r.json()["error"]["message"] and "secret" not in r.text


def test_chunked_bodies_over_the_limit_are_refused(serve: Any) -> None:
    with serve(max_request_bytes=2048) as s:

        def body() -> Any:
            yield b'{"text": "'
            for _ in range(10):
                yield b"x" * 512
            yield b'"}'

        r = s.client.post("/contexts", content=body(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["type"] == "payload_too_large"


def test_a_context_too_long_for_the_model_is_a_413(serve: Any) -> None:
    with serve(model=ScriptedModel(default=NOTES, context_window=2048)) as s:
        r = s.client.post("/contexts", json={"text": "word " * 3000})
        assert r.status_code == 413 and r.json()["error"]["type"] == "context_too_long"
        assert "window" in r.json()["error"]["message"]


def test_sleep_dry_run_and_plan(serve: Any) -> None:
    with serve(context_sleep_tokens_per_day=10) as s:
        cid = _create(s)["id"]
        dry = s.client.post(f"/contexts/{cid}/sleep", json={"dry_run": True}).json()
        assert dry["job"] is None
        [item] = dry["plan"]["items"]
        assert item["action"] == "blocked" and "budget" in item["reason"] and item["estimated_tokens"] > 10
        [job] = s.client.get(f"/contexts/{cid}/jobs").json()["data"]
        assert job["status"] == "queued"  # the dry run only looked
        assert s.step(3600)  # the worker refuses it for good: no run can ever fit
        [job] = s.client.get(f"/contexts/{cid}/jobs").json()["data"]
        assert job["status"] == "failed" and "budget exceeded" in job["last_error"]
        assert s.client.get(f"/contexts/{cid}/learned").json()["runs"] == []


def test_health_and_openapi(serve: Any) -> None:
    with serve() as s:
        assert s.client.get("/healthz").json() == {"status": "ok"}
        spec = s.client.get("/openapi.json").json()
        assert {"/contexts", "/contexts/{context_id}/ask", "/v1/chat/completions", "/stats"} <= set(
            spec["paths"]
        )
        create = spec["components"]["schemas"]["ContextCreate"]
        assert create["additionalProperties"] is False and create["properties"]["text"]["description"]
