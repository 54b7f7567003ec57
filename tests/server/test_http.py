"""HTTP details: unparseable bodies named, strict budgets, the OpenAPI document and its pages."""

from __future__ import annotations

import re
from typing import Any

import pytest


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


def test_openapi_declares_every_status_and_this_servers_limits(serve: Any) -> None:
    with serve(max_answer_tokens=300, max_context_chars=5000) as s:
        spec = s.client.get("/openapi.json").json()
        get_context = spec["paths"]["/contexts/{context_id}"]["get"]["responses"]
        assert {"200", "400", "401", "404", "422", "429", "503"} <= set(get_context)
        assert get_context["401"]["headers"]["WWW-Authenticate"]["required"] is True
        ask = spec["paths"]["/contexts/{context_id}/ask"]["post"]["responses"]
        assert {"413", "502", "504"} <= set(ask)
        assert ask["404"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
        chat = spec["paths"]["/v1/chat/completions"]["post"]["responses"]
        assert chat["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/OpenAIError")
        assert spec["paths"]["/healthz"]["get"]["responses"].keys() == {"200"}
        schemas = spec["components"]["schemas"]
        budget_max = schemas["AskBudget"]["properties"]["max_tokens"]["anyOf"][0]["maximum"]
        assert budget_max == 300
        assert schemas["ContextCreate"]["properties"]["text"]["maxLength"] == 5000
        assert "\\u0000" in schemas["ContextCreate"]["properties"]["text"]["pattern"]
        # the constraints the schema states are the ones the server holds to
        for text in ("   ", "\n\t", "nul \u0000"):
            assert s.client.post("/contexts", json={"text": text}).status_code == 422, repr(text)
        cid = s.client.post("/contexts", json={"text": "Alice has 3 apples."}).json()["id"]
        assert s.client.post(f"/contexts/{cid}/ask", json={"question": " \u2003 "}).status_code == 422


@pytest.mark.parametrize("loose", ["0", True, 1.5, "1"])
def test_budgets_are_strict_on_every_route(serve: Any, loose: Any) -> None:
    with serve() as s:
        cid = s.client.post("/contexts", json={"text": "Alice has 3 apples."}).json()["id"]
        cases = [
            (f"/contexts/{cid}/ask", {"question": "How many?", "budget": {"verbosity": loose}}),
            (f"/contexts/{cid}/ask", {"question": "How many?", "escalate": {"n": loose}}),
            (f"/contexts/{cid}/sleep", {"budget": {"rounds": loose}}),
            (f"/contexts/{cid}/sleep", {"dry_run": True, "budget": {"k": loose}}),
            (
                "/v1/chat/completions",
                {"model": "m", "messages": [{"role": "user", "content": "hi"}], "verbosity": loose},
            ),
        ]
        for path, body in cases:
            r = s.client.post(path, json=body)
            assert r.status_code == 422, (path, body, r.text)
        for flag in ("baseline",):
            r = s.client.post(f"/contexts/{cid}/ask", json={"question": "q?", flag: 1})
            assert r.status_code == 422
        ok = s.client.post(f"/contexts/{cid}/ask", json={"question": "q?", "budget": {"verbosity": 1.0}})
        assert ok.status_code == 200 and ok.json()["budget"]["verbosity"] == 1  # JSON Schema's integer


@pytest.mark.parametrize("loose", ["0", True])
def test_budget_is_strict_in_python(loose: Any) -> None:
    from sleeptime.budget import Budget
    from sleeptime.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        Budget.parse({"verbosity": loose})
    with pytest.raises(ValueError):
        Budget(rounds=loose)
