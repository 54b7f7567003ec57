"""The prompt state cache on real files: keying, validation, LRU bound, owners; and the priority lock."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from sleeptime.llm.priority import PriorityLock, background, in_background
from sleeptime.llm.prompt_state import PromptStateCache, StateKey, file_sha256

MODEL = "a" * 64
OTHER_MODEL = "b" * 64


def state(n: int, fill: int = 7) -> bytearray:
    return bytearray([fill]) * n


def test_lookup_returns_the_longest_state_whose_tokens_are_a_prefix(tmp_path: Path) -> None:
    cache = PromptStateCache(tmp_path, 10_000_000, ram_bytes=0)
    short, long = StateKey(MODEL, 4096, (1, 2, 3)), StateKey(MODEL, 4096, (1, 2, 3, 4, 5))
    cache.put(short, state(100, 1), owner="ctx1")
    cache.put(long, state(100, 2), owner="ctx1")
    found = cache.lookup(MODEL, 4096, [1, 2, 3, 4, 5, 6])
    assert found is not None and found[0] == long and found[1] == state(100, 2)
    found = cache.lookup(MODEL, 4096, [1, 2, 3, 9, 9])
    assert found is not None and found[0] == short
    # At least one token must remain to evaluate; a longer held prefix wins over the cache.
    assert cache.lookup(MODEL, 4096, [1, 2, 3]) is None
    assert cache.lookup(MODEL, 4096, [1, 2, 3, 4, 5, 6], longer_than=5) is None


def test_a_state_for_another_prefix_model_or_window_is_never_used(tmp_path: Path) -> None:
    cache = PromptStateCache(tmp_path, 10_000_000, ram_bytes=0)
    cache.put(StateKey(MODEL, 4096, (1, 2, 3)), state(50), owner="c")
    assert cache.lookup(MODEL, 4096, [1, 2, 4, 5]) is None
    assert cache.lookup(OTHER_MODEL, 4096, [1, 2, 3, 4]) is None
    assert cache.lookup(MODEL, 2048, [1, 2, 3, 4]) is None


def test_a_file_renamed_to_claim_other_tokens_is_ignored_and_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = PromptStateCache(tmp_path, 10_000_000, ram_bytes=0)
    cache.put(StateKey(MODEL, 4096, (1, 2, 3)), state(50), owner="c")
    (written,) = tmp_path.glob("*.kvstate")
    impostor = StateKey(MODEL, 4096, (7, 8, 9))
    written.rename(tmp_path / f"c.{impostor.file_id}.kvstate")
    with caplog.at_level(logging.WARNING):
        assert cache.lookup(MODEL, 4096, [7, 8, 9, 10]) is None
    assert "made for other tokens" in caplog.text
    assert not list(tmp_path.glob("*.kvstate"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_damaged_files_are_logged_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    cache = PromptStateCache(tmp_path, 10_000_000, ram_bytes=0)
    key = StateKey(MODEL, 4096, (1, 2, 3))
    cache.put(key, state(5000), owner="c")
    (path,) = tmp_path.glob("*.kvstate")
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        blob = blob[:-100]
    elif damage == "flip":
        blob[-10] ^= 0xFF
    elif damage == "garbage":
        blob = bytearray(b"not a state at all")
    else:
        blob = bytearray()
    path.write_bytes(bytes(blob))
    for reader in (cache, PromptStateCache(tmp_path, 10_000_000, ram_bytes=0)):  # this process, a new one
        with caplog.at_level(logging.WARNING):
            assert reader.lookup(MODEL, 4096, [1, 2, 3, 4]) is None
    assert "ignored" in caplog.text


def test_the_checksum_is_verified_once_per_file_version(tmp_path: Path) -> None:
    writer = PromptStateCache(tmp_path, 10_000_000, ram_bytes=0)
    writer.put(StateKey(MODEL, 4096, (1, 2, 3)), state(5000), owner="c")
    reader = PromptStateCache(tmp_path, 10_000_000, ram_bytes=0)
    assert reader.lookup(MODEL, 4096, [1, 2, 3, 4]) is not None
    (path,) = tmp_path.glob("*.kvstate")
    assert path in reader._verified  # the next read of this version skips the checksum
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    path.write_bytes(bytes(blob))
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))  # a new version of the file
    assert reader.lookup(MODEL, 4096, [1, 2, 3, 4]) is None


def test_the_disk_stays_under_its_bound_least_recently_used_first(tmp_path: Path) -> None:
    cache = PromptStateCache(tmp_path, 35_000, ram_bytes=0)  # room for three 10 kB states
    keys = [StateKey(MODEL, 4096, (i, i + 1)) for i in range(4)]
    for i, key in enumerate(keys[:3]):
        cache.put(key, state(10_000), owner=f"c{i}")
        path = next(tmp_path.glob(f"c{i}.*.kvstate"))
        os.utime(path, (time.time() - 100 + i, time.time() - 100 + i))  # c0 oldest
    assert cache.lookup(MODEL, 4096, [0, 1, 2]) is not None  # c0 used again: now the newest
    cache.put(keys[3], state(10_000), owner="c3")
    assert sum(p.stat().st_size for p in tmp_path.glob("*.kvstate")) <= 35_000
    assert {p.name.split(".")[0] for p in tmp_path.glob("*.kvstate")} == {"c0", "c2", "c3"}


def test_a_state_larger_than_the_bound_is_not_written(tmp_path: Path) -> None:
    cache = PromptStateCache(tmp_path, 1000, ram_bytes=0)
    assert not cache.put(StateKey(MODEL, 4096, (1, 2)), state(5000), owner="c")
    assert not list(tmp_path.glob("*.kvstate"))


def test_ram_copies_are_bounded_and_served_without_the_disk(tmp_path: Path) -> None:
    cache = PromptStateCache(tmp_path, 0, ram_bytes=2500)  # nothing on disk
    for i in range(3):
        cache.put(StateKey(MODEL, 4096, (i, 100)), state(1000), owner="c")
    assert not list(tmp_path.glob("*.kvstate"))
    assert cache.lookup(MODEL, 4096, [0, 100, 5]) is None  # evicted: the oldest
    assert cache.lookup(MODEL, 4096, [2, 100, 5]) is not None


def test_retain_keeps_only_the_given_states_of_one_owner_and_model(tmp_path: Path) -> None:
    cache = PromptStateCache(tmp_path, 10_000_000)
    old, new = StateKey(MODEL, 4096, (1, 2)), StateKey(MODEL, 4096, (1, 3))
    other_model = StateKey(OTHER_MODEL, 4096, (1, 2))
    for key in (old, new, other_model):
        cache.put(key, state(100), owner="ctx")
    cache.put(StateKey(MODEL, 4096, (9, 9)), state(100), owner="someone-else")
    assert cache.retain("ctx", [new.file_id], model_sha256=MODEL) == 1
    assert cache.lookup(MODEL, 4096, [1, 2, 5]) is None
    assert cache.lookup(MODEL, 4096, [1, 3, 5]) is not None
    assert cache.lookup(OTHER_MODEL, 4096, [1, 2, 5]) is not None
    assert cache.drop("ctx") == 2
    assert [p.name.split(".")[0] for p in tmp_path.glob("*.kvstate")] == ["someone-else"]
    assert cache.lookup(MODEL, 4096, [1, 3, 5]) is None  # the RAM copy went too


def test_the_model_hash_is_computed_once_and_kept_next_to_the_file(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"weights" * 1000)
    first = file_sha256(model)
    side = tmp_path / "m.gguf.sha256"
    assert side.is_file() and first in side.read_text()
    side.write_text(side.read_text().replace(first, "0" * 64))
    assert file_sha256(model) == "0" * 64  # read back, not recomputed
    model.write_bytes(b"other weights")  # a changed file is hashed again
    assert file_sha256(model) not in (first, "0" * 64)


# --- the priority lock


def test_a_waiting_query_goes_before_waiting_background_work() -> None:
    lock = PriorityLock()
    order: list[str] = []
    held = threading.Event()

    def holder() -> None:
        with lock.hold(background=True):
            held.set()
            time.sleep(0.3)

    def worker(name: str, low: bool) -> None:
        with lock.hold(background=low):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    held.wait()
    sleeper = threading.Thread(target=worker, args=("sleep", True))
    sleeper.start()
    time.sleep(0.05)
    query = threading.Thread(target=worker, args=("query", False))
    query.start()
    for thread in (first, sleeper, query):
        thread.join(5)
    assert order == ["query", "sleep"]


def test_yield_to_queries_suspends_lets_queries_run_and_resumes() -> None:
    lock = PriorityLock()
    events: list[str] = []
    query_waiting = threading.Event()

    def query() -> None:
        query_waiting.set()
        with lock.hold(background=False):
            events.append("query")

    with lock.hold(background=True):
        assert not lock.yield_to_queries(lambda: events.append("suspend"), lambda _: events.append("resume"))
        thread = threading.Thread(target=query)
        thread.start()
        query_waiting.wait()
        while not lock.queries_waiting:
            time.sleep(0.001)
        assert lock.yield_to_queries(lambda: events.append("suspend"), lambda _: events.append("resume"))
        with lock.hold():  # still ours, reentrantly
            events.append("sleep again")
    thread.join(5)
    assert events == ["suspend", "query", "resume", "sleep again"]
    assert lock.preemptions == 1


def test_background_is_per_thread_and_nests() -> None:
    seen: list[bool] = []
    with background():
        assert in_background()
        thread = threading.Thread(target=lambda: seen.append(in_background()))
        thread.start()
        thread.join()
    assert not in_background() and seen == [False]
