"""PDF printing is bounded per replica: with every slot busy a print is a 503 after a short wait, never a pile-up."""

from __future__ import annotations

import time

import pytest

from service.console import pdf
from service.errors import Unavailable


def test_a_print_waits_for_a_slot_then_says_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "chromium", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(pdf, "QUEUE_SECONDS", 0.2)
    printed: list[bytes] = []

    def fake_print(exe: str, html: bytes) -> bytes:
        printed.append(html)
        return b"%PDF"

    monkeypatch.setattr(pdf, "_print", fake_print)
    for _ in range(pdf.MAX_PRINTS):  # every slot taken by prints in progress
        assert pdf._slots.acquire(timeout=1)
    try:
        start = time.monotonic()
        with pytest.raises(Unavailable, match="being printed already"):
            pdf.print_pdf(b"<html></html>")
        assert 0.15 < time.monotonic() - start < 5 and printed == []
    finally:
        for _ in range(pdf.MAX_PRINTS):
            pdf._slots.release()
    assert pdf.print_pdf(b"<p>ok</p>") == b"%PDF" and printed == [b"<p>ok</p>"]  # a free slot prints
