"""PDF of a printable page: headless Chromium prints the same HTML, offline, with the console's own stylesheet.

The page is written to a private temporary directory beside a copy of the
stylesheet and printed from there (``file://``), with every background network
feature of Chromium turned off, so printing fetches nothing from anywhere.
Chinese text needs a CJK font on the machine (Debian: ``fonts-noto-cjk``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from fastapi import Response

from service.errors import Unavailable

STATIC = Path(__file__).parent / "static"
WEB_CSS = "/console/static/console.css"
PRINT_CSS = "console.css"
TIMEOUT_SECONDS = 60
MAX_PRINTS = 2
"""Chromium processes printing at once per replica: each takes a core and ~200 MB for a few seconds."""
QUEUE_SECONDS = 15.0
"""How long a print waits for a free slot before the answer is 503 (try again)."""
_slots = threading.BoundedSemaphore(MAX_PRINTS)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-pdf-header-footer",
)


def chromium() -> str | None:
    """The Chromium on this machine, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: bytes) -> bytes:
    """``html`` printed to PDF by headless Chromium; 503 when there is none, it fails, or every slot stays busy."""
    exe = chromium()
    if exe is None:
        raise Unavailable("printing a PDF needs Chromium on the server (Debian: apt-get install chromium)")
    if not _slots.acquire(timeout=QUEUE_SECONDS):
        raise Unavailable(f"{MAX_PRINTS} PDFs are being printed already; try again in a moment")
    try:
        return _print(exe, html)
    finally:
        _slots.release()


def _print(exe: str, html: bytes) -> bytes:
    with tempfile.TemporaryDirectory(prefix="iprisk-pdf-") as tmp:
        root = Path(tmp)
        shutil.copy(STATIC / "console.css", root / PRINT_CSS)
        page, out = root / "page.html", root / "page.pdf"
        page.write_bytes(html)
        command = [exe, *FLAGS, f"--user-data-dir={root / 'profile'}", f"--print-to-pdf={out}", page.as_uri()]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise Unavailable("printing the PDF took too long; try again") from exc
        if not out.exists() or out.stat().st_size == 0:
            raise Unavailable("Chromium could not print the PDF")
        return out.read_bytes()


def attachment(body: bytes, name: str) -> Response:
    """A PDF download."""
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
