"""Request limits, over real HTTP against a real uvicorn server configured as ``iprisk serve`` configures it.

The servers run in this process, in a thread, so the server's memory is this
process's: its peak resident size (VmHWM, reset through /proc/self/clear_refs)
shows what a request cost.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.errors import MAX_PROBLEMS
from service.keys import new_key
from service.settings import Settings
from tests.factories import TEST_SIGNING_KEY, Trained, application
from tests.service.harness import Server, start_server

MB = 1024 * 1024


def _serve(tmp_path_factory: pytest.TempPathFactory, trained: Trained, **limits: object) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("home-limits")
    shutil.copytree(trained.models, home / "models")
    settings = Settings(home=home, log_level="WARNING", batch_max_items=5, model_signing_key=TEST_SIGNING_KEY, **limits)  # type: ignore[arg-type]
    srv, thread, base_url, app = start_server(settings)
    keys = {role: new_key(settings, role=role, institution=f"{role}_1")[0] for role in ("bank", "data_team")}
    keys["bank_2"] = new_key(settings, role="bank", institution="bank_2")[0]
    try:
        yield Server(base_url, settings, "sqlite", app, keys)
    finally:
        srv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, trained: Trained) -> Iterator[Server]:
    """Default body limit (4 MB), short timeouts, few connections, no rate limit, public operations data."""
    yield from _serve(
        tmp_path_factory,
        trained,
        body_timeout_seconds=1.0,
        timeout_keep_alive_seconds=1.5,
        limit_concurrency=64,
        rate_limit_per_minute=0,
        ops_public=True,
    )


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory, trained: Trained) -> Iterator[Server]:
    """60 requests a minute per key (one a second), bursts of 3."""
    yield from _serve(tmp_path_factory, trained, rate_limit_per_minute=60, rate_limit_burst=3)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _peak_rss_reset() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_rss() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes of a batch of non-object items, made as sent: the client holds one chunk at a time."""
    head = b'{"items": ['
    yield head
    sent = len(head)
    piece = b"1," * (size // 2)
    while sent + len(piece) < total:
        yield piece
        sent += len(piece)
    yield b"1" * max(total - sent - 2, 0) + b"]}"


def _post_big(
    server: Server, *, total: int, headers: dict[str, str], declare_length: bool
) -> tuple[httpx.Response, float, int]:
    """POST ``total`` bytes to the batch route; (response, seconds, growth of the peak RSS in bytes)."""
    if declare_length:
        headers = {**headers, "Content-Length": str(total)}
    before = _rss()
    _peak_rss_reset()
    t0 = time.perf_counter()
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        r = client.post(
            "/v1/assessments/batch", content=_chunks(total), headers={**headers, "Content-Type": "application/json"}
        )
    return r, time.perf_counter() - t0, _peak_rss() - before


@pytest.mark.parametrize("who", ["anonymous", "bank"])
def test_a_50_mb_body_is_refused_at_once_without_growing_the_server(limited: Server, who: str) -> None:
    headers = _auth(limited.keys["bank"]) if who == "bank" else {}
    r, seconds, growth = _post_big(limited, total=50 * MB, headers=headers, declare_length=True)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["error"] == "TooLarge" and "4194304 bytes" in r.json()["detail"]
    assert seconds < 5
    assert growth < 20 * MB, f"peak RSS grew {growth / MB:.1f} MB"


def test_a_chunked_body_over_the_limit_is_cut_off(limited: Server) -> None:
    r, _, growth = _post_big(limited, total=50 * MB, headers=_auth(limited.keys["bank"]), declare_length=False)
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 413 and r.json()["error"] == "TooLarge"
    assert growth < 20 * MB, f"peak RSS grew {growth / MB:.1f} MB"


def test_a_body_under_the_limit_still_reaches_the_route(limited: Server) -> None:
    with httpx.Client(base_url=limited.base_url, timeout=60) as client:
        chunked = client.post(
            "/v1/assessments/batch",
            headers={**_auth(limited.keys["bank"]), "Content-Type": "application/json"},
            content=iter([b'{"items": [', json.dumps(application()).encode(), b"]}"]),
        )
    assert chunked.status_code == 200, chunked.text
    assert chunked.json()["succeeded"] == 1


def test_a_body_that_does_not_arrive_in_time_gets_408(limited: Server) -> None:
    port = int(limited.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/assessments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"borrower":'
        )
        t0 = time.monotonic()
        answer = _read_response(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"error":"TooSlow"' in answer
    assert 0.8 < time.monotonic() - t0 < 5


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while True:
        part = sock.recv(65536)
        if not part:
            return data
        data += part


def test_oversize_batches_are_refused_fast_with_a_small_answer(server: Server) -> None:
    headers = {**_auth(server.keys["bank_a"]), "Content-Type": "application/json"}
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        t0 = time.perf_counter()
        huge = client.post(
            "/v1/assessments/batch", content=b'{"items": [' + b"1," * (MB // 2) + b"1]}", headers=headers
        )
        seconds = time.perf_counter() - t0
        many_bad = client.post("/v1/assessments/batch", json={"items": [1] * 5}, headers=headers)
        too_many = client.post("/v1/assessments/batch", json={"items": [application()] * 6}, headers=headers)
        long_key = client.post("/v1/assessments", json={"k" * 500_000: 1, **application()}, headers=headers)
    assert huge.status_code == 422 and huge.json()["field"] == "items"
    assert len(huge.content) < 4096, len(huge.content)
    assert seconds < 2
    assert many_bad.status_code == 422 and len(many_bad.json()["errors"]) == 5
    assert too_many.status_code == 422 and "at most 5 items" in too_many.json()["detail"]
    assert long_key.status_code == 422 and len(long_key.content) < 4096, len(long_key.content)


def test_a_body_with_many_problems_lists_the_first_ones_and_counts_the_rest(server: Server) -> None:
    headers = {**_auth(server.keys["bank_a"]), "Content-Type": "application/json"}
    bad = {"borrower": {f"x{i}": i for i in range(5000)}, "loan": {}, "patents": [{}] * 40}
    r = httpx.post(f"{server.base_url}/v1/assessments", json=bad, headers=headers, timeout=60)
    assert r.status_code == 422
    assert len(r.json()["errors"]) == MAX_PROBLEMS
    assert "more problems" in r.json()["detail"]
    assert len(r.content) < 8192, len(r.content)


def test_a_key_over_its_rate_waits_for_retry_after_and_others_are_not_held(rated: Server) -> None:
    bank = _auth(rated.keys["bank"])
    with httpx.Client(base_url=rated.base_url, timeout=30) as client:
        codes = [client.get("/v1/assessments", headers=bank).status_code for _ in range(8)]
        limited = client.get("/v1/assessments", headers=bank)
        other = client.get("/v1/assessments", headers=_auth(rated.keys["bank_2"]))
        health = [client.get("/healthz").status_code for _ in range(10)]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
        assert limited.status_code == 429 and limited.json()["error"] == "RateLimited"
        retry = int(limited.headers["Retry-After"])
        assert 1 <= retry <= 2
        assert other.status_code == 200
        assert set(health) == {200}
        time.sleep(retry)
        assert client.get("/v1/assessments", headers=bank).status_code == 200


def test_unknown_keys_share_their_address_bucket(rated: Server) -> None:
    with httpx.Client(base_url=rated.base_url, timeout=30) as client:
        time.sleep(3)  # the address bucket refills from earlier tests
        codes = [client.get("/v1/assessments", headers=_auth(f"ipr_{uuid.uuid4().hex}")).status_code for _ in range(10)]
    assert codes[0] == 401 and 429 in codes  # a fresh random key each time does not get a fresh bucket


def test_an_idle_connection_flood_does_not_lock_clients_out(limited: Server) -> None:
    port = int(limited.base_url.rsplit(":", 1)[1])
    flood = []
    try:
        for _ in range(1100):
            flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        t0 = time.perf_counter()
        r = httpx.get(f"{limited.base_url}/v1/assessments", headers=_auth(limited.keys["bank"]), timeout=10)
        served_in = time.perf_counter() - t0
        assert r.status_code == 200, r.text
        assert served_in < 2
        time.sleep(limited.settings.timeout_keep_alive_seconds + 1.0)
        closed = sum(1 for s in flood[-50:] if _closed_by_server(s))
        assert closed == 50  # even the newest idle sockets time out
    finally:
        for s in flood:
            s.close()


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_slow_or_huge_headers_are_cut_off(limited: Server) -> None:
    port = int(limited.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        for _ in range(20):  # a header byte every 0.25 s never completes the request
            try:
                slow.sendall(b"X")
            except OSError:
                break
            time.sleep(0.25)
        assert _closed_by_server(slow)
        assert time.monotonic() - t0 < 4
    with socket.create_connection(("127.0.0.1", port), timeout=10) as huge:
        huge.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 100_000 + b"\r\n\r\n")
        assert _read_response(huge).startswith(b"HTTP/1.1 400")


def test_every_response_carries_the_security_headers(limited: Server) -> None:
    with httpx.Client(base_url=limited.base_url, timeout=30) as client:
        answers = {
            "health": client.get("/healthz"),
            "api": client.get("/v1/assessments"),
            "too_large": client.post("/v1/assessments", content=b"x" * (5 * MB)),
            "docs": client.get("/docs"),
        }
    for name, r in answers.items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["x-frame-options"] == "DENY", name
        assert r.headers["referrer-policy"] == "no-referrer", name
    assert answers["too_large"].status_code == 413
    assert answers["api"].status_code == 401 and answers["api"].headers["cache-control"] == "no-store"
    assert "default-src 'none'" in answers["health"].headers["content-security-policy"]
    assert answers["docs"].status_code == 200 and "content-security-policy" not in answers["docs"].headers


def test_operations_data_needs_an_operations_key(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        anonymous_metrics = client.get("/metrics")
        bank_metrics = client.get("/metrics", headers=_auth(server.keys["bank_a"]))
        ops_metrics = client.get("/metrics", headers=_auth(server.keys["data_team"]))
        anonymous_ready = client.get("/readyz")
        bank_ready = client.get("/readyz", headers=_auth(server.keys["bank_a"]))
        regulator_ready = client.get("/readyz", headers=_auth(server.keys["regulator"]))
        health = client.get("/healthz")
    assert anonymous_metrics.status_code == 401 and anonymous_metrics.json()["error"] == "Unauthorized"
    assert bank_metrics.status_code == 403
    assert ops_metrics.status_code == 200 and "iprisk_http_requests_total" in ops_metrics.text
    assert anonymous_ready.status_code == 200 and anonymous_ready.json() == {"status": "ready"}
    assert bank_ready.json() == {"status": "ready"}
    assert regulator_ready.json()["details"]["database"] == "ok"
    assert health.status_code == 200


def test_operations_data_is_open_when_configured_public(limited: Server) -> None:
    with httpx.Client(base_url=limited.base_url, timeout=30) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/readyz").json()["details"]["database"] == "ok"
