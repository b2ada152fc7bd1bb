"""Text no column can hold (NUL, lone surrogates) is a 422 naming the field, on every route, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from service.text_guard import first_bad, problem
from tests.factories import application
from tests.service.harness import Server


def test_problem_names_nul_and_lone_surrogates_only() -> None:
    assert problem("CN2021\x00") is not None and "NUL" in problem("CN2021\x00")  # type: ignore[operator]
    assert "U+D800" in problem("a\ud800")  # type: ignore[operator]
    assert problem("专利 😀 \\u0000 \t") is None  # a real astral character, an escaped backslash, a tab


def test_first_bad_gives_the_dotted_path() -> None:
    assert first_bad({"a": [1, {"b": "ok"}, {"c": "x\x00"}]}) == ("a.2.c", problem("x\x00"))
    field, why = first_bad({"borrower": {"k\x00": 1}})  # type: ignore[misc]
    assert field == "borrower.k\\x00" and why.startswith("the key contains a NUL")
    assert first_bad("\udfff") == ("body", problem("\udfff"))
    assert first_bad({"a": ["fine", 1.5, None, True]}) is None


def _post(server: Server, path: str, body: Any, who: str = "bank_a") -> httpx.Response:
    # ensure_ascii: the escapes \u0000 and \ud800 go over the wire as JSON allows
    content = json.dumps(body, ensure_ascii=True).encode()
    with httpx.Client(base_url=server.base_url, timeout=30) as raw:
        return raw.post(
            path,
            content=content,
            headers={"Authorization": f"Bearer {server.keys[who]}", "Content-Type": "application/json"},
        )


def _counts(server: Server) -> tuple[int, ...]:
    return tuple(server.count(t) for t in ("assessments", "valuations", "loans", "audit_log"))


BODIES = [
    ("/v1/loans", {"assessment_id": "ab\x00cd"}, "assessment_id", "NUL"),
    ("/v1/assessments", "patent_id", "patents.0.patent_id", "NUL"),
    ("/v1/assessments", "enterprise_id", "borrower.enterprise_id", "surrogate"),
    ("/v1/valuations", {"patents": [{"patent_id": "CN1\udc80"}]}, "patents.0.patent_id", "surrogate"),
]


@pytest.mark.parametrize(("path", "body", "field", "word"), BODIES)
def test_unstorable_text_in_a_body_is_422_and_writes_nothing(
    server: Server, path: str, body: Any, field: str, word: str
) -> None:
    if body == "patent_id":
        body = application()
        body["patents"][0]["patent_id"] = "CN\x00123"
    elif body == "enterprise_id":
        body = application()
        body["borrower"]["enterprise_id"] = "E\ud83d"  # the first half of a pair, alone
    before = _counts(server)
    r = _post(server, path, body)
    assert r.status_code == 422, r.text
    out = r.json()
    assert out["error"] == "ValidationError" and out["field"] == field and word in out["detail"]
    assert out["errors"][0]["field"] == field
    assert _counts(server) == before


def test_unstorable_text_in_path_or_query_is_422(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.keys['bank_a']}"}
    with httpx.Client(base_url=server.base_url, timeout=30, headers=headers) as raw:
        r = raw.get("/v1/assessments/ab%00cd")
        assert r.status_code == 422 and r.json()["field"] == "path"
        r = raw.get("/v1/loans/x%00")
        assert r.status_code == 422 and r.json()["field"] == "path"
        r = raw.get("/v1/assessments", params={"since": "2026-01-01\x00"})
        assert r.status_code == 422 and r.json()["field"] == "since"
        # an ordinary unknown id is still the route's 404
        assert raw.get("/v1/assessments/abcd").status_code == 404


def test_text_that_can_be_stored_passes_through(server: Server) -> None:
    body = application()
    body["borrower"]["enterprise_id"] = "E-\\u0000-😀-\ud83d\ude00"  # escaped backslash, astral chars
    r = _post(server, "/v1/assessments", body)
    assert r.status_code == 201, r.text
    assert r.json()["id"]


def test_a_body_that_is_not_json_gets_the_routes_own_answer(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as raw:
        r = raw.post(
            "/v1/loans",
            content=b'{"assessment_id": "\\u0000',
            headers={"Authorization": f"Bearer {server.keys['bank_a']}", "Content-Type": "application/json"},
        )
    assert r.status_code == 422 and r.json()["error"] == "ValidationError"


def test_guarded_refusals_are_counted(server: Server) -> None:
    _post(server, "/v1/loans", {"assessment_id": "\x00"})
    with httpx.Client(base_url=server.base_url, timeout=30) as raw:
        text = raw.get("/metrics", headers={"Authorization": f"Bearer {server.keys['data_team']}"}).text
    assert 'status="4xx"' in text and 'route="unmatched"' in text


def test_a_batch_item_with_unstorable_text_fails_alone(server: Server) -> None:
    good, nul, surrogate_key = application(), application(), application()
    nul["borrower"]["enterprise_id"] = "E\x00"
    surrogate_key["loan"]["\udc00"] = 1
    before = server.count("assessments")
    r = _post(server, "/v1/assessments/batch", {"items": [good, nul, surrogate_key]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["succeeded"], out["failed"]) == (1, 2)
    assert [x["status"] for x in out["results"]] == ["ok", "error", "error"]
    assert out["results"][1]["error"]["field"] == "items.1.borrower.enterprise_id"
    assert "NUL" in out["results"][1]["error"]["detail"]
    assert out["results"][2]["error"]["field"] == "items.2.loan.\\udc00"
    assert server.count("assessments") == before + 1
    # outside the items the guard still answers for the whole request
    r = _post(server, "/v1/assessments/batch", {"items": [good], "note\x00": 1})
    assert r.status_code == 422 and r.json()["field"] == "note\\x00"


def test_a_body_sent_in_chunks_is_read_whole(server: Server) -> None:
    """The guard reassembles a chunked body for its check and hands all of it on to the route."""
    headers = {"Authorization": f"Bearer {server.keys['bank_a']}", "Content-Type": "application/json"}
    good = json.dumps(application(), ensure_ascii=True).encode()
    bad = json.dumps({"assessment_id": "ab\x00cd"}, ensure_ascii=True).encode()

    def chunks(body: bytes, cut: int) -> Any:
        yield body[:cut]
        yield body[cut:]

    with httpx.Client(base_url=server.base_url, timeout=30, headers=headers) as raw:
        cut = bad.index(b"\\u0000") + 3  # the escape itself is split between two chunks
        r = raw.post("/v1/loans", content=chunks(bad, cut))
        assert r.status_code == 422 and r.json()["field"] == "assessment_id"
        r = raw.post("/v1/assessments", content=chunks(good, len(good) // 2))
        assert r.status_code == 201, r.text
