"""Saved prompt states: the KV cache of a prompt prefix, on disk and in RAM, to restore instead of evaluating.

A state is keyed by what produced it: the model file's SHA-256, the context window
``n_ctx`` and the SHA-256 of the exact prefix tokens. Each file repeats the
tokens, so a lookup only ever returns a state whose tokens are a prefix of the
prompt asked (compared token by token, not only by hash). Files are written to a
temporary name and renamed, carry a CRC of the state bytes, and one that is
missing, truncated, corrupt or from another model is logged and ignored.

The directory is bounded (``SLEEPTIME_PROMPT_CACHE_MB``; least recently used
files go first) and a few states also stay in RAM. Each state has an ``owner``
(the context it was made for), so that superseded and deleted contexts' states
are removed (``retain``, ``drop``). Several processes may share the directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import threading
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = b"SLEEPTIME-KV\x01"
SUFFIX = ".kvstate"
DEFAULT_RAM_BYTES = 256 * 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9-]")


@dataclass(frozen=True)
class StateKey:
    model_sha256: str
    n_ctx: int
    tokens: tuple[int, ...]

    @property
    def tokens_sha256(self) -> str:
        return tokens_digest(self.tokens)

    @property
    def digest(self) -> str:
        ident = f"{self.model_sha256}:{self.n_ctx}:{self.tokens_sha256}"
        return hashlib.sha256(ident.encode()).hexdigest()[:32]

    @property
    def file_id(self) -> str:
        """The state's file name without the owner: what ``retain`` keeps."""
        return f"{self.tokens_sha256[:24]}.{len(self.tokens)}.{self.model_sha256[:16]}.{self.n_ctx}"


@dataclass(frozen=True)
class Entry:
    """A state file as its name describes it (nothing read yet)."""

    path: Path
    owner: str
    n_tokens: int
    tokens_prefix: str  # first 24 hex digits of the tokens' SHA-256
    model_prefix: str
    n_ctx: int

    @property
    def file_id(self) -> str:
        return f"{self.tokens_prefix}.{self.n_tokens}.{self.model_prefix}.{self.n_ctx}"


def tokens_digest(tokens: Sequence[int]) -> str:
    return hashlib.sha256(array("i", tokens).tobytes()).hexdigest()


def file_sha256(path: Path) -> str:
    """The model file's SHA-256, computed once and kept next to it (``FILE.sha256``)."""
    stat = path.stat()
    stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
    side = path.with_name(path.name + ".sha256")
    try:
        saved = json.loads(side.read_text())
        if saved.get("stamp") == stamp and re.fullmatch(r"[0-9a-f]{64}", str(saved.get("sha256"))):
            return str(saved["sha256"])
    except (OSError, ValueError, AttributeError):
        pass
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    value = digest.hexdigest()
    try:
        side.write_text(json.dumps({"sha256": value, "stamp": stamp}))
    except OSError as exc:  # a read-only models dir: compute again next time
        log.info("cannot keep the model hash next to %s: %s", path, exc)
    return value


class PromptStateCache:
    """States in ``directory`` (at most ``max_bytes`` on disk; 0: RAM only) and the last few in RAM."""

    def __init__(self, directory: Path, max_bytes: int, *, ram_bytes: int = DEFAULT_RAM_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.ram_bytes = ram_bytes
        self._ram: OrderedDict[str, tuple[StateKey, str, bytearray]] = OrderedDict()
        self._lock = threading.Lock()
        self._verified: dict[Path, tuple[int, int, int]] = {}  # files whose checksum matched, by stamp

    # --- lookup

    def entries(self) -> list[Entry]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            if not name.endswith(SUFFIX):
                continue
            parts = name[: -len(SUFFIX)].split(".")
            if len(parts) != 5 or not parts[2].isdigit() or not parts[4].isdigit():
                continue
            owner, tokens_prefix, n_tokens, model_prefix, n_ctx = parts
            found.append(
                Entry(self.directory / name, owner, int(n_tokens), tokens_prefix, model_prefix, int(n_ctx))
            )
        return found

    def lookup(
        self, model_sha256: str, n_ctx: int, tokens: Sequence[int], *, longer_than: int = 0
    ) -> tuple[StateKey, bytearray] | None:
        """The longest saved state whose tokens are a prefix of ``tokens`` (and longer than
        ``longer_than``), leaving at least one token of ``tokens`` to evaluate."""
        with self._lock:
            ram = [(key, data) for key, _, data in self._ram.values() if key.model_sha256 == model_sha256]
        best: tuple[StateKey, bytearray] | None = None
        for key, data in ram:
            n = len(key.tokens)
            fits = key.n_ctx == n_ctx and longer_than < n < len(tokens) and tuple(tokens[:n]) == key.tokens
            if fits and (best is None or n > len(best[0].tokens)):
                best = (key, data)
        candidates = [
            e
            for e in self.entries()
            if e.model_prefix == model_sha256[:16]
            and e.n_ctx == n_ctx
            and max(longer_than, len(best[0].tokens) if best else 0) < e.n_tokens < len(tokens)
        ]
        for entry in sorted(candidates, key=lambda e: -e.n_tokens):
            if tokens_digest(tokens[: entry.n_tokens])[:24] != entry.tokens_prefix:
                continue
            key = StateKey(model_sha256, n_ctx, tuple(tokens[: entry.n_tokens]))
            read = self._read(entry.path, key)
            if read is not None:
                self._remember(key, entry.owner, read)
                return key, read
        if best is not None:
            self._touch(best[0])
        return best

    def contains(self, key: StateKey) -> bool:
        with self._lock:
            if key.digest in self._ram:
                return True
        return any(self._path(key, e.owner) == e.path for e in self.entries())

    # --- writing

    def put(self, key: StateKey, data: bytes | bytearray, *, owner: str) -> bool:
        """Keep a state; False if it could not be written (logged), e.g. larger than the bound."""
        owner = _safe_owner(owner)
        self._remember(key, owner, bytearray(data))
        if self.max_bytes <= 0:
            return False
        header = json.dumps(
            {
                "model_sha256": key.model_sha256,
                "n_ctx": key.n_ctx,
                "n_tokens": len(key.tokens),
                "state_bytes": len(data),
                "state_crc32": zlib.crc32(data),
            }
        ).encode()
        tokens = array("i", key.tokens).tobytes()
        size = len(MAGIC) + 4 + len(header) + len(tokens) + len(data)
        if size > self.max_bytes:
            log.info(
                "prompt state of %d tokens (%d MB) is larger than the cache bound",
                len(key.tokens),
                size >> 20,
            )
            return False
        path = self._path(key, owner)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=SUFFIX + ".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(MAGIC + struct.pack("<I", len(header)) + header + tokens)
                    handle.write(data)
                os.replace(tmp, path)
                self._verified[path] = _stamp(path.stat())
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("cannot save a prompt state in %s: %s", self.directory, exc)
            return False
        self.evict()
        return True

    def evict(self) -> None:
        """Remove least recently used files until the directory is within its bound."""
        sized = []
        for entry in self.entries():
            try:
                stat = entry.path.stat()
            except OSError:
                continue
            sized.append((stat.st_mtime_ns, stat.st_size, entry.path))
        total = sum(size for _, size, _ in sized)
        for _, size, path in sorted(sized):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size

    def retain(self, owner: str, keep: Sequence[str], *, model_sha256: str) -> int:
        """Remove ``owner``'s states of this model except those whose ``file_id`` is in ``keep``
        (a superseded learned context's prompt); how many files went."""
        owner, kept = _safe_owner(owner), set(keep)
        removed = 0
        for entry in self.entries():
            if entry.owner == owner and entry.model_prefix == model_sha256[:16] and entry.file_id not in kept:
                entry.path.unlink(missing_ok=True)
                removed += 1
        with self._lock:
            for digest in [
                d
                for d, (k, o, _) in self._ram.items()
                if o == owner and k.model_sha256 == model_sha256 and k.file_id not in kept
            ]:
                del self._ram[digest]
        return removed

    def drop(self, owner: str) -> int:
        """Remove every state of ``owner`` (all models): its context was deleted."""
        owner = _safe_owner(owner)
        removed = 0
        for entry in self.entries():
            if entry.owner == owner:
                entry.path.unlink(missing_ok=True)
                removed += 1
        with self._lock:
            for digest in [d for d, (_, o, _) in self._ram.items() if o == owner]:
                del self._ram[digest]
        return removed

    # --- plumbing

    def _path(self, key: StateKey, owner: str) -> Path:
        return self.directory / f"{owner}.{key.file_id}{SUFFIX}"

    def _read(self, path: Path, key: StateKey) -> bytearray | None:
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                blob = bytearray(stat.st_size)
                handle.readinto(blob)
        except OSError as exc:
            log.warning("prompt state %s unreadable, ignored: %s", path.name, exc)
            return None
        # The checksum is computed once per file version in this process (~1 ms per MB).
        known = self._verified.get(path) == _stamp(stat)
        problem = _check(blob, key, checksum=not known)
        if problem is not None:
            log.warning("prompt state %s ignored: %s", path.name, problem)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first
            self._verified[path] = _stamp(path.stat())
        start = len(blob) - _state_len(blob)
        del blob[:start]  # one copy-free bytearray of the state bytes
        return blob

    def _remember(self, key: StateKey, owner: str, data: bytearray) -> None:
        with self._lock:
            self._ram[key.digest] = (key, owner, data)
            self._ram.move_to_end(key.digest)
            while self._ram and sum(len(d) for _, _, d in self._ram.values()) > self.ram_bytes:
                self._ram.popitem(last=False)

    def _touch(self, key: StateKey) -> None:
        with self._lock:
            if key.digest in self._ram:
                self._ram.move_to_end(key.digest)


def _state_len(blob: bytearray) -> int:
    (length,) = struct.unpack_from("<I", blob, len(MAGIC))
    return int(json.loads(bytes(blob[len(MAGIC) + 4 : len(MAGIC) + 4 + length]))["state_bytes"])


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _check(blob: bytearray, key: StateKey, *, checksum: bool = True) -> str | None:
    """Why ``blob`` is not a valid state for ``key``, or None."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        return "not a sleeptime prompt state"
    (length,) = struct.unpack_from("<I", blob, len(MAGIC))
    start = len(MAGIC) + 4
    try:
        header = json.loads(bytes(blob[start : start + length]))
        n_tokens, state_bytes, crc = (
            int(header["n_tokens"]),
            int(header["state_bytes"]),
            int(header["state_crc32"]),
        )
        model, n_ctx = str(header["model_sha256"]), int(header["n_ctx"])
    except (ValueError, KeyError, TypeError):
        return "unreadable header"
    if model != key.model_sha256 or n_ctx != key.n_ctx:
        return "made by another model or context window"
    tokens_at = start + length
    if len(blob) != tokens_at + 4 * n_tokens + state_bytes:
        return f"truncated ({len(blob)} bytes, {tokens_at + 4 * n_tokens + state_bytes} expected)"
    tokens = array("i")
    tokens.frombytes(bytes(blob[tokens_at : tokens_at + 4 * n_tokens]))
    if tuple(tokens) != key.tokens:
        return "made for other tokens"
    if checksum and zlib.crc32(memoryview(blob)[tokens_at + 4 * n_tokens :]) != crc:
        return "corrupt (checksum mismatch)"
    return None


def _safe_owner(owner: str) -> str:
    return _SAFE.sub("-", owner)[:64] or "-"


_CACHES: dict[tuple[Path, int], PromptStateCache] = {}
_CACHES_LOCK = threading.Lock()


def shared_cache(directory: Path, max_bytes: int) -> PromptStateCache:
    """One cache object per directory in a process, so that a deletion also clears the RAM copies."""
    with _CACHES_LOCK:
        key = (Path(directory).resolve(), max_bytes)
        if key not in _CACHES:
            _CACHES[key] = PromptStateCache(directory, max_bytes)
        return _CACHES[key]


def drop_owner(directory: Path, owner: str) -> int:
    """Remove every state of ``owner`` from ``directory`` and from any cache object using it."""
    removed = PromptStateCache(directory, 0).drop(owner)
    with _CACHES_LOCK:
        caches = [c for (d, _), c in _CACHES.items() if d == Path(directory).resolve()]
    for cache in caches:
        cache.drop(owner)
    return removed
