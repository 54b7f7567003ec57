"""Background prompt evaluation is chunked so that a query waits about a quarter second at most."""

from __future__ import annotations

from sleeptime.llm.llamacpp import BACKGROUND_CHUNK_SECONDS, BACKGROUND_CHUNK_TOKENS, next_background_chunk


def test_a_chunk_is_sized_to_take_the_target_time_at_the_last_chunks_speed() -> None:
    # 2 cores: 64 tokens in 1.16 s (55 tokens/s) -> 13 tokens would take the target; the floor is 16.
    assert next_background_chunk(64, 1.16) == BACKGROUND_CHUNK_TOKENS[0]
    # 400 tokens/s -> 100 tokens take the target time.
    assert next_background_chunk(40, 0.1) == int(400 * BACKGROUND_CHUNK_SECONDS)
    # A GPU's thousands of tokens per second: a full batch, never more.
    assert next_background_chunk(512, 0.01) == BACKGROUND_CHUNK_TOKENS[1]
    # A chunk that took no measurable time does not divide by zero.
    assert next_background_chunk(16, 0.0) == BACKGROUND_CHUNK_TOKENS[1]
