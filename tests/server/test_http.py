"""HTTP details: unparseable bodies named, strict budgets, the OpenAPI document and its pages."""

from __future__ import annotations

import re
from typing import Any


def _post_raw(s: Any, path: str, body: bytes) -> Any:
    return s.client.post(path, content=body, headers={"content-type": "application/json"})


def test_unparseable_bodies_name_the_problem(serve: Any) -> None:
    with serve() as s:
        cases = [
            (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
            (b'{"text": "a", "metadata": {"n": ' + b"9" * 5000 + b"}}", "more than 4,300 digits"),
            (b'{"text": "caf\xe9"}', "not valid UTF-8"),
        ]
        for body, problem in cases:
            r = _post_raw(s, "/contexts", body)
            assert r.status_code == 400, r.text
            error = r.json()["error"]
            assert error["type"] == "invalid_request" and problem in error["message"], error


def test_docs_pages_load_nothing_from_other_hosts(serve: Any) -> None:
    with serve() as s:
        for page in ("/docs", "/redoc"):
            html = s.client.get(page).text
            assert "cdn." not in html and "https://" not in html, page
            assets = re.findall(r'(?:src|href)="(/docs-assets/[^"]+)"', html)
            assert assets, page
            for asset in assets:
                assert s.client.get(asset).status_code == 200, asset
