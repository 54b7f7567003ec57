"""Per-tenant quotas: requests per minute, the most one question or sleep may spend, and
the tenant's sleep tokens per hour; windows answer 429 with Retry-After."""

from __future__ import annotations

from typing import Any

import httpx

from sleeptime.store.keys import KeyStore
from sleeptime.store.quotas import Quota, QuotaStore

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."


def _tenant(s: Any, name: str, quota: Quota) -> httpx.Client:
    _, key = KeyStore(s.engine.store.engine).create_key(name)
    QuotaStore(s.engine.store.engine).set(name, quota)
    return s.closing(httpx.Client(base_url=s.url, headers={"Authorization": f"Bearer {key}"}))


def test_requests_per_minute_is_429_with_retry_after(serve: Any) -> None:
    with serve() as s:
        limited = _tenant(s, "acme", Quota(requests_per_minute=3))
        free = _tenant(s, "globex", Quota())
        assert [limited.get("/contexts").status_code for _ in range(3)] == [200, 200, 200]
        r = limited.get("/contexts")
        assert r.status_code == 429 and r.json()["error"]["type"] == "quota_exceeded"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert "3 per minute" in r.json()["error"]["message"]
        assert all(free.get("/contexts").status_code == 200 for _ in range(5))  # per tenant


def test_max_ask_tokens_refuses_large_questions(serve: Any) -> None:
    with serve() as s:
        client = _tenant(s, "acme", Quota(max_ask_tokens=100))
        cid = client.post("/contexts", json={"text": TEXT}).json()["id"]
        ask = f"/contexts/{cid}/ask"
        assert (
            client.post(ask, json={"question": "How many?", "budget": {"max_tokens": 50}}).status_code == 200
        )
        r = client.post(ask, json={"question": "How many?", "budget": {"max_tokens": 60, "n": 2}})
        assert r.status_code == 400 and "max_ask_tokens of 100" in r.json()["error"]["message"]
        r = client.post(ask, json={"question": "How many?", "escalate": {"max_tokens": 101}})
        assert r.status_code == 400
        r = client.post(
            "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 101},
        )
        assert r.status_code == 400 and r.json()["error"]["param"] == "max_tokens"


def test_sleep_quotas(serve: Any) -> None:
    with serve(sleep_budget={"rounds": 1, "k": 1, "max_tokens": 64}) as s:
        client = _tenant(s, "acme", Quota(max_sleep_tokens=2000))
        cid = client.post("/contexts", json={"text": TEXT}).json()["id"]
        big = {"budget": {"rounds": 20, "k": 16, "max_tokens": 4096}}
        r = client.post(f"/contexts/{cid}/sleep", json=big)
        assert r.status_code == 400 and "max_sleep_tokens" in r.json()["error"]["message"]
        assert client.post(f"/contexts/{cid}/sleep", json={}).status_code == 202

        hourly = _tenant(s, "globex", Quota(sleep_tokens_per_hour=1))
        other = hourly.post("/contexts", json={"text": TEXT}).json()["id"]
        r = hourly.post(f"/contexts/{other}/sleep", json={})
        assert r.status_code == 400  # one run could never fit in the hour
        QuotaStore(s.engine.store.engine).set("globex", Quota(sleep_tokens_per_hour=5000))
        assert hourly.post(f"/contexts/{other}/sleep", json={}).status_code == 202
        s.drain()  # both tenants' runs: globex has now spent part of its hour
        spent = s.client.get(f"/contexts/{other}/learned", headers=hourly.headers).json()["runs"]
        assert spent and spent[0]["usage"]["total_tokens"] > 0
        small = {"budget": {"max_tokens": 60}}
        dry = hourly.post(f"/contexts/{other}/sleep", json={**small, "dry_run": True}).json()
        estimate = dry["plan"]["items"][0]["estimated_tokens"]
        fits_alone = estimate + spent[0]["usage"]["total_tokens"] - 1  # but not after what was spent
        QuotaStore(s.engine.store.engine).set("globex", Quota(sleep_tokens_per_hour=fits_alone))
        r = hourly.post(f"/contexts/{other}/sleep", json=small)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 60
        # the queued job of a tenant over its hour waits (GET /scheduler/plan says why)
        hourly.put(f"/contexts/{other}", json={"text": TEXT + " He eats 2."})
        [item] = hourly.get("/scheduler/plan").json()["items"]
        assert item["action"] == "blocked" and "tenant globex's hourly" in item["reason"]


def test_keys_quota_cli(tmp_path: Any, capsys: Any) -> None:
    import json

    from sleeptime.cli import run

    db = f"sqlite:///{tmp_path / 'q.db'}"
    assert (
        run(["--db", db, "keys", "quota", "--tenant", "acme", "--requests-per-minute", "60", "--json"]) == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown["requests_per_minute"] == 60 and shown["max_sleep_tokens"] is None
    assert run(["--db", db, "keys", "quota", "--tenant", "acme", "--max-sleep-tokens", "5000", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["requests_per_minute"], shown["max_sleep_tokens"]) == (60, 5000)  # the rest kept
    assert run(["--db", db, "keys", "quota", "--tenant", "acme", "--requests-per-minute", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["requests_per_minute"] is None
    assert run(["--db", db, "keys", "quota", "--tenant", "acme", "--clear"]) == 0
    assert "max_sleep_tokens: no limit" in capsys.readouterr().out
