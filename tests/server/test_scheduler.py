"""The scheduler through the server: debounce on a fake clock, cancellation, incremental
sleep, budgets, retries with a hard stop, leases; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sleeptime.errors import BackendUnavailableError, ContextTooLongError
from sleeptime.llm.fake import ScriptedModel

from .conftest import NOTES, wait_until

TEXT = "Alice has 3 apples. She buys 39 more apples at the market."


class Blocker:
    """A scripted step that waits until released, so a test can act mid-run."""

    def __init__(self, reply: str = "Notes: a first draft of notes about apples.") -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.reply = reply

    def __call__(self, messages: Any) -> str:
        self.entered.set()
        assert self.release.wait(30), "never released"
        return self.reply


def _create(s: Any, text: str = TEXT) -> str:
    r = s.client.post("/contexts", json={"text": text})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _jobs(s: Any, cid: str) -> list[dict[str, Any]]:
    return list(s.client.get(f"/contexts/{cid}/jobs").json()["data"])


def _learned(s: Any, cid: str) -> dict[str, Any]:
    return dict(s.client.get(f"/contexts/{cid}/learned").json())


def test_edits_and_queries_push_sleep_back(serve: Any) -> None:
    with serve(idle_delay_s=30) as s:
        cid = _create(s)
        assert not s.step(29)
        s.client.put(f"/contexts/{cid}", json={"text": TEXT + " Then she eats one."})  # t=29: due at 59
        assert not s.step(20)
        s.client.post(f"/contexts/{cid}/ask", json={"question": "How many?"})  # t=49: due at 79
        assert not s.step(29)
        assert s.step(2)
        [job] = _jobs(s, cid)
        assert (job["status"], job["version"]) == ("done", 2)
        answer = s.client.post(f"/contexts/{cid}/ask", json={"question": "How many?"}).json()
        assert answer["source"] == "learned" and answer["context_version"] == 2
        # slept on: a query queues nothing new
        assert not s.step(3600)


def test_an_edit_cancels_the_run_and_one_run_per_context(serve: Any) -> None:
    blocker = Blocker()
    sleep_model = ScriptedModel(script=[blocker], default=NOTES)
    with serve(sleep_model=sleep_model, workers=2, idle_delay_s=0, scheduler_poll_s=0.05) as s:
        cid = _create(s)
        assert blocker.entered.wait(10)
        r = s.client.put(f"/contexts/{cid}", json={"text": "Bob has 5 pears and buys 2 more."})
        assert r.json()["sleep_job"]["status"] == "queued"
        time.sleep(0.5)  # the second worker is free, but the context has a run going
        assert [j["status"] for j in _jobs(s, cid)] == ["queued", "running"]
        blocker.release.set()
        wait_until(lambda: [j["status"] for j in _jobs(s, cid)] == ["done", "cancelled"])
        new, old = _jobs(s, cid)
        assert old["version"] == 1 and "changed" in old["last_error"] and new["version"] == 2
        runs = _learned(s, cid)["runs"]
        assert [(r["context_version"], r["status"]) for r in runs] == [(2, "done"), (1, "cancelled")]
        assert runs[1]["usage"]["calls"] == 1 and runs[1]["usage"]["completion_tokens"] > 0  # metered
        answer = s.client.post(f"/contexts/{cid}/ask", json={"question": "How many pears?"}).json()
        assert answer["source"] == "learned" and answer["learned_context_id"] == new["learned_context_id"]


def test_a_run_that_finishes_after_an_edit_is_only_history(serve: Any) -> None:
    blocker = Blocker(NOTES)  # one round: the run completes after the edit
    sleep_model = ScriptedModel(script=[blocker], default=NOTES)
    # rethink: one scripted call is the whole run (solve would make several).
    with serve(
        sleep_model=sleep_model, workers=1, idle_delay_s=60, scheduler_poll_s=0.05, sleep_strategy="rethink"
    ) as s:
        cid = _create(s)
        s.client.post(f"/contexts/{cid}/sleep", json={"budget": {"rounds": 1}})
        assert blocker.entered.wait(10)
        s.client.put(f"/contexts/{cid}", json={"text": "Bob has 5 pears."})
        blocker.release.set()
        wait_until(lambda: _jobs(s, cid)[-1]["status"] == "done")
        done = _jobs(s, cid)[-1]
        assert "history" in done["last_error"]
        [stale] = _learned(s, cid)["data"]
        assert stale["context_version"] == 1 and not stale["current"]
        answer = s.client.post(f"/contexts/{cid}/ask", json={"question": "How many pears?"}).json()
        assert answer["source"] == "raw" and answer["context_version"] == 2


def test_appended_text_sleeps_incrementally(serve: Any) -> None:
    sleep_model = ScriptedModel(default=NOTES)
    with serve(sleep_model=sleep_model, sleep_strategy="rethink") as s:  # rethink grows its notes
        cid = _create(s)
        assert s.step(31)
        first = _learned(s, cid)["data"][0]
        s.client.post(f"/contexts/{cid}/append", json={"text": "Then she gives away 10 apples."})
        assert s.step(31)
        newest = _learned(s, cid)["data"][0]
        assert newest["context_version"] == 2 and newest["based_on"] == first["id"]
        prompt = " ".join(m["content"] for m in sleep_model.calls[-1][0])
        assert "gives away 10" in prompt and first["text"] in prompt
        assert newest["runs"][0]["changes"]["previous_learned_context_id"] == first["id"]


def test_global_hourly_budget_defers_and_context_budget_refuses(serve: Any) -> None:
    with serve(sleep_tokens_per_hour=600, sleep_budget={"rounds": 1, "k": 1, "max_tokens": 64}) as s:
        a, b = _create(s), _create(s, "Carol has 7 kiwis.")
        assert s.step(31) and s.step()
        statuses = {cid: _jobs(s, cid)[0] for cid in (a, b)}
        [waiting] = [j for j in statuses.values() if j["status"] == "queued"]
        assert [j["status"] for j in statuses.values() if j is not waiting] == ["done"]
        assert "hourly sleep budget" in waiting["last_error"] and waiting["attempts"] == 0
        plan = s.client.get("/scheduler/plan").json()["items"]
        assert [(i["job"]["id"], i["action"]) for i in plan] == [(waiting["id"], "blocked")]
        assert not s.step(60)  # still inside the hour
        assert s.step(3600)
        assert _jobs(s, waiting["context_id"])[0]["status"] == "done"


def test_retries_stop_at_max_attempts(serve: Any) -> None:
    sleep_model = ScriptedModel(default=BackendUnavailableError("model server down"))  # type: ignore[arg-type]
    with serve(sleep_model=sleep_model, job_max_attempts=2, job_retry_delay_s=10) as s:
        cid = _create(s)
        assert s.step(31)
        [job] = _jobs(s, cid)
        assert (job["status"], job["attempts"], job["last_error"]) == ("queued", 1, "model server down")
        assert not s.step(5)  # backoff
        assert s.step(6)
        [job] = _jobs(s, cid)
        assert job["status"] == "failed" and job["last_error"].startswith("gave up after 2 attempt(s)")
        assert not s.step(3600)  # the hard stop holds
        runs = _learned(s, cid)["runs"]
        assert [r["status"] for r in runs] == ["failed", "failed"]


def test_a_non_retryable_failure_is_visible_at_once(serve: Any) -> None:
    sleep_model = ScriptedModel(script=[ContextTooLongError("too long for the sleep model")])
    with serve(sleep_model=sleep_model) as s:
        cid = _create(s)
        assert s.step(31)
        [job] = _jobs(s, cid)
        assert (job["status"], job["attempts"]) == ("failed", 1) and "too long" in job["last_error"]
        [run] = _learned(s, cid)["runs"]
        assert run["status"] == "failed" and "too long" in run["error"]


def test_an_expired_lease_is_claimed_again(serve: Any) -> None:
    with serve(job_max_attempts=2, job_lease_s=60) as s:
        cid = _create(s)
        s.clock.advance(31)
        ghost = s.scheduler.jobs.claim("elsewhere:1:x:0", now=s.clock.now(), lease_s=60)
        assert ghost is not None and ghost.context_id == cid
        assert not s.step(30)  # the lease holds
        assert s.step(31)
        [job] = _jobs(s, cid)
        assert (job["status"], job["attempts"]) == ("done", 2)

        other = _create(s, "Dan has 2 dogs.")
        s.clock.advance(31)
        for _ in range(2):  # two attempts die
            assert s.scheduler.jobs.claim("elsewhere:1:x:0", now=s.clock.now(), lease_s=60) is not None
            s.clock.advance(61)
        assert not s.step()  # the claim closes it for good instead of running it
        [job] = _jobs(s, other)
        assert job["status"] == "failed" and "lease expired" in job["last_error"]


def test_contexts_without_a_job_are_queued_at_start(serve: Any) -> None:
    with serve() as s:
        context = s.engine.add_context("Eve has 4 cats.")  # as if the job was lost in a crash
        assert s.scheduler.jobs.list_jobs(context_id=context.id) == []
        s.scheduler.start()
        [job] = s.scheduler.jobs.list_jobs(context_id=context.id)
        assert job.status == "queued"


def test_an_edit_made_outside_the_server_is_queued_at_the_next_poll(serve: Any) -> None:
    with serve() as s:
        context = s.engine.add_context("Fay has 6 owls.")  # as `sleeptime context add` would, meanwhile
        assert s.scheduler.jobs.list_jobs(context_id=context.id) == []  # only its outbox row so far
        assert not s.step()  # the poll relays it: queued, due after the idle delay
        [job] = s.scheduler.jobs.list_jobs(context_id=context.id)
        assert (job.status, job.reason) == ("queued", "created")
        s.engine.update_context(context.id, "Fay has 7 owls.")
        assert not s.step(29)  # the edit's relay pushed the due time back: t=29 + 30
        assert not s.step(29)
        assert s.step(2)
        [job] = s.scheduler.jobs.list_jobs(context_id=context.id)
        assert (job.status, job.version) == ("done", 2)


def test_queries_are_answered_during_a_sleep_run(serve: Any) -> None:
    blocker = Blocker()
    sleep_model = ScriptedModel(script=[blocker], default=NOTES)
    with serve(sleep_model=sleep_model, workers=1, idle_delay_s=0, scheduler_poll_s=0.05) as s:
        cid = _create(s)
        assert blocker.entered.wait(10)

        def ask(i: int) -> tuple[int, str, float]:
            started = time.perf_counter()
            r = s.client.post(f"/contexts/{cid}/ask", json={"question": f"Question {i}?"})
            return r.status_code, r.json()["source"], time.perf_counter() - started

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(ask, range(16)))
        assert all(status == 200 and source == "raw" for status, source, _ in results)
        assert max(latency for *_, latency in results) < 5
        blocker.release.set()
        wait_until(lambda: _jobs(s, cid)[0]["status"] == "done")
        assert s.client.post(f"/contexts/{cid}/ask", json={"question": "q?"}).json()["source"] == "learned"
        assert len(s.client.get(f"/contexts/{cid}/queries", params={"limit": 500}).json()["data"]) == 17


class SharedModel(ScriptedModel):
    """One model for both: sleep calls are quick and counted; an answer waits for ``release``."""

    def __init__(self) -> None:
        super().__init__(default="Notes: still thinking about the apples.", delay_s=0.05)
        self.sleep_calls = 0
        self.answering = threading.Event()
        self.release = threading.Event()

    def complete(self, messages: Any, params: Any) -> Any:
        if "q?" in messages[-1]["content"]:  # the question this test asks
            self.answering.set()
            assert self.release.wait(30), "never released"
        else:
            self.sleep_calls += 1
        return super().complete(messages, params)


def test_one_model_for_both_lets_queries_go_first(serve: Any) -> None:
    model = SharedModel()
    with serve(
        model=model, workers=1, idle_delay_s=0, scheduler_poll_s=0.05, sleep_budget={"rounds": 20}
    ) as s:
        cid = _create(s)
        wait_until(lambda: model.sleep_calls >= 1)
        with ThreadPoolExecutor(1) as pool:
            asked = pool.submit(lambda: s.client.post(f"/contexts/{cid}/ask", json={"question": "q?"}))
            assert model.answering.wait(10)
            before = model.sleep_calls
            time.sleep(0.5)  # ten sleep calls' time: the gate holds every one of them
            assert model.sleep_calls <= before + 1  # one may have passed the gate just before
            model.release.set()
            assert asked.result(timeout=30).status_code == 200
        wait_until(lambda: model.sleep_calls > before + 1)  # and sleep goes on afterwards
        wait_until(lambda: _jobs(s, cid)[0]["status"] == "done")
