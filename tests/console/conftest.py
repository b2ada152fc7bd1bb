"""Console fixtures: the service tests' live server, and one headless Chromium per module.

The browser is Debian's ``chromium`` driven by Playwright (``executable_path``; Playwright's own
browser download is never used).  ``scripts/test.sh`` installs it where missing; the tests skip,
saying why, only where it is not installed and cannot be (never in CI, where it is a failure).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import server, server_settings

__all__ = ["browser", "screenshots", "server", "server_settings"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    if not Path(CHROMIUM).exists() or shutil.which("pdftoppm") is None:
        why = "Debian's chromium and poppler-utils are not installed (scripts/test.sh installs them as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module saves its screenshots (``IPRISK_ARTIFACTS``/console if set, else a tmp dir)."""
    root = os.environ.get("IPRISK_ARTIFACTS")
    if root:
        out = Path(root) / "console"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path_factory.mktemp("console-screenshots")
