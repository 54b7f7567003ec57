"""The child side of ``sandbox.run_program``; run as a script, never imported by sleeptime.

It must not import the ``sleeptime`` package (slow, and nothing of it is needed):
it reads one JSON request on stdin, lowers its own resource limits before it
touches the program, evaluates it with asteval and writes one JSON reply.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import resource
import sys
import types

# Model-written programs usually begin with these; the names are provided safely instead.
ALLOWED_IMPORTS = frozenset({"math", "fractions", "decimal"})


def _limit(cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # no file grows, whatever opens it
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(ValueError, OSError):  # not enforced for root, harmless
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


class _CappedWriter(io.StringIO):
    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.truncated = False

    def write(self, text: str) -> int:
        room = self.cap - self.tell()
        if len(text) > room:
            super().write(text[: max(room, 0)])
            self.truncated = True
            raise RuntimeError("output limit reached")  # stops a printing loop at once
        return super().write(text)


def _strip_safe_imports(source: str) -> tuple[str, str]:
    """Drop ``import math``-style lines (their names exist already); any other import is an error."""
    kept = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(("import ", "from ")):
            words = stripped.replace(",", " ").split()
            module = words[1].split(".")[0] if len(words) > 1 else ""
            if module not in ALLOWED_IMPORTS:
                return "", f"import of {module or 'a module'!r} is not allowed"
            continue
        kept.append(line)
    return "\n".join(kept), ""


def _plain(value: object) -> object:
    """A JSON-safe copy of a top-level value, or None when it is not plain data."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**30 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:200]
    try:
        from decimal import Decimal
        from fractions import Fraction

        if isinstance(value, (Fraction, Decimal)):
            return float(value)
    except Exception:  # pragma: no cover - stdlib always has both
        return None
    return None


def main() -> None:
    request = json.loads(sys.stdin.read())
    _limit(int(request["cpu_seconds"]), int(request["memory_bytes"]))
    out = _CappedWriter(int(request["output_chars"]))
    reply: dict[str, object] = {"ok": False, "values": {}, "output": "", "error": ""}
    source, error = _strip_safe_imports(str(request["source"]))
    if error:
        reply["error"] = error
        sys.stdout.write(json.dumps(reply))
        return
    from fractions import Fraction

    from asteval import Interpreter

    interp = Interpreter(use_numpy=False, writer=out, err_writer=out, max_statement_length=20_000)
    for unsafe in ("open", "type"):
        interp.symtable.pop(unsafe, None)
    math_ns = types.SimpleNamespace(**{k: getattr(math, k) for k in dir(math) if not k.startswith("_")})
    interp.symtable["math"] = math_ns
    interp.symtable["Fraction"] = Fraction
    given = set()
    for name, value in dict(request.get("inputs") or {}).items():
        interp.symtable[name] = value
        given.add(name)
    before = dict(interp.symtable)
    try:
        interp.eval(source, show_errors=False, raise_errors=True)
    except MemoryError:
        reply["error"] = "the program ran out of memory"
    except Exception as exc:  # the program's own error, reported as data
        reply["error"] = f"{type(exc).__name__}: {exc}"[:500]
    else:
        if interp.error:
            reply["error"] = interp.error[0].get_error()[1][:500]
        else:
            reply["ok"] = True
    values = {}
    for name, value in interp.symtable.items():
        if name.startswith("_") or (name in before and before[name] is value and name not in given):
            continue
        plain = _plain(value)
        if plain is not None:
            values[name] = plain
    reply["values"] = values
    reply["output"] = out.getvalue()
    if out.truncated:
        reply["error"] = reply["error"] or "output limit reached"
        reply["ok"] = False
    sys.stdout.write(json.dumps(reply))


if __name__ == "__main__":
    main()
