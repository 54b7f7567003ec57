"""What the server says it will do: the context list, dry runs and the scheduler's plan."""

from __future__ import annotations

from typing import Any

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."


def test_the_list_shows_learned_context_and_sleep_job(serve: Any) -> None:
    with serve() as s:
        slept = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        waiting = s.client.post("/contexts", json={"text": "Bob has 5 pears."}).json()["id"]
        learned = s.engine.sleep(slept, strategy="rethink")  # its queued job stays queued
        listed = {c["id"]: c for c in s.client.get("/contexts").json()["data"]}
        single = s.client.get(f"/contexts/{slept}").json()
        assert listed[slept]["learned_context_id"] == single["learned_context_id"] == learned.id
        assert listed[slept]["sleep_job"]["id"] == single["sleep_job"]["id"]
        assert listed[waiting]["learned_context_id"] is None
        assert listed[waiting]["sleep_job"]["status"] == "queued"
        assert all(c["text"] is None for c in listed.values())


def test_dry_run_shows_the_cost_of_the_budget_sent(serve: Any) -> None:
    with serve(idle_delay_s=3600) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        sleep = f"/contexts/{cid}/sleep"
        small = s.client.post(sleep, json={"dry_run": True, "budget": {"rounds": 1, "k": 1}}).json()
        big = s.client.post(
            sleep, json={"dry_run": True, "budget": {"rounds": 20, "k": 16, "max_tokens": 4096}}
        ).json()
        [small_item], [big_item] = small["plan"]["items"], big["plan"]["items"]
        assert big_item["estimated_tokens"] > 100 * small_item["estimated_tokens"]
        # what this request would do: run now, not wait for the queued job's idle delay
        assert big_item["action"] == "run" and "due now" in big_item["reason"]
        [job] = s.client.get(f"/contexts/{cid}/jobs").json()["data"]
        assert job["status"] == "queued" and job["reason"] == "created"  # nothing changed


def test_plan_times_are_as_of_the_answer(serve: Any) -> None:
    with serve(idle_delay_s=30) as s:
        cid = s.client.post("/contexts", json={"text": TEXT}).json()["id"]
        [item] = s.client.get("/scheduler/plan").json()["items"]
        assert item["action"] == "wait" and item["reason"] == "due in 30s (idle delay)"
        s.clock.advance(180)  # the job is 2.5 minutes overdue (every worker busy, say)
        [item] = s.client.get("/scheduler/plan").json()["items"]
        assert item["action"] == "run" and item["reason"].startswith("due 150s ago")
        assert item["job"]["context_id"] == cid


def test_serve_dry_run_shows_what_starting_would_queue(tmp_path: Any, capsys: Any, monkeypatch: Any) -> None:
    from sleeptime.cli import run
    from sleeptime.engine import Engine
    from sleeptime.llm.fake import ScriptedModel

    db = f"sqlite:///{tmp_path / 'd.db'}"
    with Engine(model=ScriptedModel(), store=db) as engine:  # as `sleeptime context add` does
        cid = engine.add_context(TEXT).id
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line
    assert run(["--db", db, "--model", "smollm2-135m", "serve", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "nothing queued" not in out
    assert cid in out and "queued at start" in out


def test_planning_does_not_wait_for_a_model_call(smollm2: Any, sqlite_url: str) -> None:
    """The real model generating in another thread (a sleep run, say): the plan and a dry run
    answer at once, since counting tokens does not take the generation lock."""
    import threading
    import time

    from sleeptime.llm.base import SamplingParams

    from .conftest import serving

    with serving(sqlite_url, model=smollm2) as s:
        cid = s.client.post("/contexts", json={"text": TEXT * 20}).json()["id"]
        long_call = threading.Thread(
            target=smollm2.complete,
            args=([{"role": "user", "content": "Write a very long story about a dragon."}],),
            kwargs={"params": SamplingParams(max_tokens=64, temperature=0.0)},
        )
        long_call.start()
        time.sleep(0.5)
        started = time.perf_counter()
        plan = s.client.get("/scheduler/plan").json()
        dry = s.client.post(f"/contexts/{cid}/sleep", json={"dry_run": True}).json()
        took = time.perf_counter() - started
        still_generating = long_call.is_alive()
        long_call.join()
        assert still_generating, "the model call ended too soon to tell"
        assert took < 1.0, f"planning waited {took:.1f}s for the model"
        assert plan["items"][0]["estimated_tokens"] == dry["plan"]["items"][0]["estimated_tokens"] > 0
