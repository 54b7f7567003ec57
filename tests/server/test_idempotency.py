"""Idempotency-Key on POSTs: a retried request gets the first answer, never a second write."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from sleeptime.errors import ConfigurationError
from sleeptime.settings import load_settings
from sleeptime.store.idempotency import IdempotencyStore
from sleeptime.store.keys import KeyStore

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."


def _count(s: Any) -> int:
    return len(s.client.get("/contexts").json()["data"])


def test_a_retried_create_is_replayed_not_repeated(serve: Any) -> None:
    with serve() as s:
        key = {"Idempotency-Key": "create-1"}
        first = s.client.post("/contexts", json={"text": TEXT}, headers=key)
        again = s.client.post("/contexts", json={"text": TEXT}, headers=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert _count(s) == 1
        other = s.client.post("/contexts", json={"text": TEXT}, headers={"Idempotency-Key": "create-2"})
        assert other.json()["id"] != first.json()["id"] and _count(s) == 2
        assert s.client.post("/contexts", json={"text": TEXT}).status_code == 201  # no key: no memory
        assert _count(s) == 3


def test_a_key_reused_for_another_request_is_refused(serve: Any) -> None:
    with serve() as s:
        key = {"Idempotency-Key": "k"}
        s.client.post("/contexts", json={"text": TEXT}, headers=key)
        r = s.client.post("/contexts", json={"text": "Another text."}, headers=key)
        assert r.status_code == 422 and r.json()["error"]["type"] == "idempotency_key_reused"
        r = s.client.post("/contexts", json={"text": TEXT}, headers={"Idempotency-Key": "x" * 256})
        assert r.status_code == 400
        assert _count(s) == 1


def test_keys_belong_to_a_tenant(serve: Any) -> None:
    with serve() as s:
        keys = KeyStore(s.engine.store.engine)
        clients = [
            s.closing(
                httpx.Client(base_url=s.url, headers={"Authorization": f"Bearer {keys.create_key(t)[1]}"})
            )
            for t in ("acme", "globex")
        ]
        made = [
            c.post("/contexts", json={"text": TEXT}, headers={"Idempotency-Key": "same"}).json()
            for c in clients
        ]
        assert made[0]["id"] != made[1]["id"]  # the same key from two tenants: two requests


def test_errors_worth_retrying_are_not_stored(serve: Any) -> None:
    with serve() as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        key = {"Idempotency-Key": "ask-1"}
        missing = s.client.post("/contexts/nope/ask", json={"question": "q?"}, headers=key)
        assert missing.status_code == 404
        replayed = s.client.post("/contexts/nope/ask", json={"question": "q?"}, headers=key)
        assert replayed.status_code == 404 and replayed.headers["idempotent-replayed"] == "true"
        store = IdempotencyStore(s.engine.store.engine)
        now = datetime.now(timezone.utc)
        args: dict[str, Any] = {"now": now, "ttl_s": 60, "lease_s": 30, "is_dead": lambda owner: False}
        assert store.begin("default", "run-1", "f", "other-process", **args).outcome == "new"
        busy = s.client.post(
            f"/contexts/{cid}/ask", json={"question": "q?"}, headers={"Idempotency-Key": "run-1"}
        )
        assert busy.status_code == 422  # another fingerprint
        assert store.begin("default", "run-1", "f", "me", **args).outcome == "in_progress"
        later = {**args, "now": now + timedelta(seconds=31)}
        assert store.begin("default", "run-1", "f", "me", **later).outcome == "new"  # its lease ran out
        dead = {**args, "is_dead": lambda owner: owner == "me"}
        assert store.begin("default", "run-1", "f", "you", **dead).outcome == "new"  # its process died


def test_a_streamed_answer_is_stored_when_it_ends(serve: Any) -> None:
    with serve() as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "How many?"}],
            "stream": True,
            "context_id": cid,
        }
        key = {"Idempotency-Key": "stream-1"}
        first = s.client.post("/v1/chat/completions", json=body, headers=key)
        again = s.client.post("/v1/chat/completions", json=body, headers=key)
        assert first.text.endswith("data: [DONE]\n\n") and again.text == first.text
        assert len(s.client.get(f"/contexts/{cid}/queries").json()["data"]) == 1


def test_lease_and_heartbeat_are_settings() -> None:
    assert load_settings(job_lease_s=9).job_heartbeat_interval_s == 3
    assert load_settings(job_lease_s=60).job_heartbeat_interval_s == 5
    assert load_settings(job_lease_s=10, job_heartbeat_s=2).job_heartbeat_interval_s == 2
    with pytest.raises(ConfigurationError, match="job_heartbeat_s must be below job_lease_s"):
        load_settings(job_lease_s=10, job_heartbeat_s=10)
