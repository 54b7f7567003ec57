"""SWE-Features: implement a feature PR given related PRs from the same repository.

Each task (the paper: 33 feature PRs from aider and ComfyUI touching at least 3
files) has the repository, a cluster of related PRs (title, body, patch) that
forms the context, the target PR's description as the query, and the files the
target PR modified as the gold answer; ``file_f1`` scores the files an agent
modifies against them.

Tasks are read from a JSONL file (``load_dataset("swe-features", path=...)``),
one task per line::

    {"id": ..., "repo": "owner/name", "repo_description": "...",
     "related_prs": [{"number": 1, "title": "...", "body": "...", "patch": "diff ..."}],
     "target_pr": {"number": 3, "title": "...", "description": "...",
                   "modified_files": ["a.py", "b.py", "c.py"]}}

(``cluster_prs``/``context_prs``, ``target``, ``files``/``gold_files`` are
accepted as aliases.) Without a path, one small fictional task shipped with the
package (``swe_example.json``) is loaded, so the code path runs offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .records import Example

EXAMPLE_FILE = Path(__file__).with_name("swe_example.json")


def _first(data: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return default


def normalize_path(path: str) -> str:
    """``./a/b.py``, ``a\\b.py`` and diff-style ``b/a/b.py`` are not told apart from ``a/b.py``
    (only the ``a/`` / ``b/`` prefixes of diff headers are stripped, by ``files_in_patch``)."""
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.strip("/")


def file_f1(predicted_files: Iterable[str], gold_files: Iterable[str]) -> float:
    """F1 between the set of files an agent modified and the files the PR modified
    (1.0 when both are empty, 0.0 when exactly one is)."""
    predicted = {normalize_path(p) for p in predicted_files if p.strip()}
    gold = {normalize_path(g) for g in gold_files if g.strip()}
    if not predicted and not gold:
        return 1.0
    hits = len(predicted & gold)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(gold)
    return 2 * precision * recall / (precision + recall)


def files_in_patch(patch: str) -> list[str]:
    """The files a unified diff touches, in order of appearance (``/dev/null`` skipped)."""
    files: list[str] = []
    for line in patch.splitlines():
        m = re.match(r"diff --git a/(\S+) b/(\S+)", line) or re.match(r"\+\+\+ (?:b/)?(\S+)", line)
        if not m:
            continue
        name = normalize_path(m.group(m.lastindex or 1))
        if name != "dev/null" and name not in files:
            files.append(name)
    return files


def render_context(task: Mapping[str, Any]) -> str:
    """The context an agent sees: the repository and the related PRs with their patches."""
    parts = [f"Repository: {task.get('repo', '')}"]
    if task.get("repo_description"):
        parts.append(str(task["repo_description"]))
    for pr in _first(task, "related_prs", "cluster_prs", "context_prs", default=[]):
        parts.append(
            f"## Related PR #{pr.get('number', '?')}: {pr.get('title', '')}\n\n{pr.get('body', '')}".rstrip()
        )
        if pr.get("patch"):
            parts.append(f"```diff\n{str(pr['patch']).rstrip()}\n```")
    return "\n\n".join(parts)


def task_to_example(task: Mapping[str, Any], index: int = 0) -> Example:
    target = _first(task, "target_pr", "target", default={})
    files = [normalize_path(f) for f in _first(target, "modified_files", "files", "gold_files", default=[])]
    if not files:
        raise ValueError(f"SWE-Features task {task.get('id', index)} lists no modified files")
    title = str(target.get("title", "")).strip()
    description = str(_first(target, "description", "body", default="")).strip()
    question = f"{title}\n\n{description}".strip()
    related = _first(task, "related_prs", "cluster_prs", "context_prs", default=[])
    return Example(
        id=str(task.get("id", f"swe-{index:03d}")),
        dataset="swe-features",
        context=render_context(task),
        question=question,
        answer="\n".join(sorted(files)),
        full_problem=f"{render_context(task)}\n\n{question}",
        meta={
            "repo": task.get("repo"),
            "gold_files": sorted(files),
            "target_pr": target.get("number"),
            "related_prs": [pr.get("number") for pr in related],
        },
    )


def load_swe_features(path: Path | None = None) -> list[Example]:
    """Tasks from a JSONL file, or the bundled example task when ``path`` is None."""
    if path is None:
        tasks = [json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))]
    else:
        with Path(path).open(encoding="utf-8") as fh:
            tasks = [json.loads(line) for line in fh if line.strip()]
    return [task_to_example(task, i) for i, task in enumerate(tasks)]


__all__ = [
    "file_f1",
    "files_in_patch",
    "load_swe_features",
    "normalize_path",
    "render_context",
    "task_to_example",
]
