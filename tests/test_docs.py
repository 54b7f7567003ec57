"""The docs work as written: every shell and Python sample of README.md, docs/cli.md and
docs/api.md runs with SmolLM2 in an isolated home (sqlite-utils' docs tests, llm's cog check).

Which blocks run:
- ```bash blocks, as a script (`bash -e`); upper-case shell variables a block assigns
  (`ID=$(sleeptime context add ...)`) carry over to the next blocks of the same page;
- ```console blocks: the lines starting with `$ ` (the rest is the output a user sees, which
  depends on the model and is not compared);
- ```python blocks, each in a fresh interpreter.
Blocks without a language (command synopses) are not run. A block that needs a server, the
network or a long run says so on the line before it: `<!-- docs-test: skip (needs a server) -->`.

Budgets are kept small through the environment (never by changing a command), so the whole
run takes a few minutes on SmolLM2 with one thread.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sleeptime.budget import Budget
from sleeptime.settings import Settings

REPO = Path(__file__).resolve().parent.parent
PAGES = ("README.md", "docs/cli.md", "docs/api.md")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
TIMEOUT_S = 300


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    """The fenced blocks of a page, with the skip marker on the line before each, if any."""
    lines = (REPO / page).read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        marker = SKIP.search(lines[start - 1]) if start > 0 else None
        found.append(
            Block(page, start + 1, opening["lang"], "\n".join(body), marker["reason"] if marker else None)
        )
    return found


def runnable(block: Block) -> str | None:
    """The code to run (shell or Python), or None for a block that is not a sample."""
    if block.lang == "bash":
        return block.code
    if block.lang == "console":
        return "\n".join(line[2:] for line in block.code.splitlines() if line.startswith("$ "))
    if block.lang == "python":
        return block.code
    return None


def samples() -> list[Block]:
    return [b for page in PAGES for b in blocks(page) if runnable(b) is not None]


def docs_env(home: Path, models_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLEEPTIME_")}
    env.update(
        {
            "SLEEPTIME_HOME": str(home),
            "SLEEPTIME_MODELS_DIR": str(models_dir),
            "SLEEPTIME_MODEL": "smollm2-135m",
            "SLEEPTIME_N_THREADS": "1",
            "SLEEPTIME_SLEEP_BUDGET__ROUNDS": "1",
            "SLEEPTIME_SLEEP_BUDGET__MAX_TOKENS": "48",
            "SLEEPTIME_ASK_BUDGET__MAX_TOKENS": "24",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONWARNINGS": "ignore",
        }
    )
    # The solve strategy's own knobs, where this version has them.
    for field, value in (("QUESTIONS", "1"), ("VOTES", "1")):
        if field.lower() in Budget.model_fields:
            env[f"SLEEPTIME_SLEEP_BUDGET__{field}"] = value
    return env


def run_block(block: Block, code: str, cwd: Path, env: dict[str, str], state: Path) -> None:
    if block.lang == "python":
        argv = [sys.executable, "-c", code]
    else:
        carried = sorted(set(ASSIGNED.findall(code)))
        save = "".join(f'printf "%s=%q\\n" {name} "${{{name}:-}}" >> {state}\n' for name in carried)
        script = f"set -euo pipefail\n[ -f {state} ] && source {state}\n{code}\n{save}"
        argv = ["bash", "-c", script]
    result = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, (
        f"{block.id} ({block.lang}) no longer works as written: exit {result.returncode}\n"
        f"--- code\n{code}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def page_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One working dir and home per page: a page's blocks share them, in order."""
    return {page: tmp_path_factory.mktemp(page.replace("/", "-")) for page in PAGES}


@pytest.mark.parametrize("block", samples(), ids=lambda b: b.id)
def test_sample_works_as_written(block: Block, page_dirs: dict[str, Path], smollm2_path: Path) -> None:
    if block.skip:
        pytest.skip(block.skip)
    code = runnable(block)
    assert code is not None
    work = page_dirs[block.page]
    env = docs_env(work / "home", smollm2_path.parent)
    run_block(block, code, work, env, work / "shell-state.sh")


def test_skips_are_few_and_say_why() -> None:
    found = samples()
    skipped = [b for b in found if b.skip]
    assert len(found) >= 15
    assert len(skipped) <= 6, [f"{b.id}: {b.skip}" for b in skipped]
    for page in PAGES:
        text = (REPO / page).read_text(encoding="utf-8")
        for match in re.finditer(r"docs-test:(?P<rest>[^\n]*)", text):
            assert SKIP.search("<!-- docs-test:" + match["rest"]), f"{page}: malformed marker {match[0]!r}"


def test_the_block_parser() -> None:
    page = "docs/cli.md"
    parsed = blocks(page)
    assert any(b.lang == "" for b in parsed)  # synopses: not run
    assert all(runnable(b) is None for b in parsed if b.lang == "")
    console = Block("x.md", 1, "console", "$ sleeptime ask $ID q\nThe answer is 6.\n$ echo hi", None)
    assert runnable(console) == "sleeptime ask $ID q\necho hi"
    assert ASSIGNED.findall("ID=$(x)\nexport SLEEPTIME_MODEL=a\necho $ID\nlower=1") == [
        "ID",
        "SLEEPTIME_MODEL",
    ]


def test_every_setting_is_documented() -> None:
    docs = "".join(
        (REPO / p).read_text(encoding="utf-8") for p in ("docs/configuration.md", "docs/server.md")
    )
    missing = [name for name in Settings.model_fields if f"`{name}`" not in docs]
    assert not missing, f"settings missing from docs/configuration.md and docs/server.md: {missing}"
    assert "SLEEPTIME_DATA_DIR" in (REPO / "docs/configuration.md").read_text(encoding="utf-8")


def test_readme_first_cli_example_shows_an_answer_its_context_holds() -> None:
    """Issue 12 item 4: the question is answerable before any append, and the output is shown."""
    block = next(b for b in blocks("README.md") if b.lang == "console")
    lines = block.code.splitlines()
    added = next(line for line in lines if "context add" in line)
    assert "3 cats and 2 dogs" in added and "each dog 1 can" in added  # 3 x 2 + 2 x 1 = 8
    ask = next(i for i, line in enumerate(lines) if line.startswith("$ sleeptime ask"))
    shown = [line for line in lines[ask + 1 :] if not line.startswith("$ ")]
    # At verbosity 0 the default model writes a line of Python; the sandbox adds its result.
    assert shown and any(line.strip() == "The answer is 8." for line in shown), "the README shows the answer"
    assert any(line.startswith("from learned context") for line in shown)
