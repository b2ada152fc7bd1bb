"""The CJK font the charts and the PDF are drawn in: installed by the project's own files (scripts/test.sh).

Looked up once: fontconfig's first font covering Chinese (``fc-list :lang=zh``), else a Noto CJK
file under the usual font directories.  Without one the report cannot show Chinese, and the
service says so (503) instead of printing empty boxes.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
PREFERRED = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSerifCJK-Regular.ttc")


class NoCjkFont(RuntimeError):
    """No font covering Chinese is installed."""


def _fontconfig() -> list[Path]:
    fc = shutil.which("fc-list")
    if fc is None:
        return []
    out = subprocess.run([fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False).stdout
    return [Path(line.split(":")[0].strip()) for line in out.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def cjk_font() -> Path:
    """Path of an installed font that covers Chinese; NoCjkFont when there is none (install fonts-noto-cjk)."""
    found = [p for p in _fontconfig() if p.is_file()]
    for d in FONT_DIRS:
        if d.is_dir():
            found += [p for name in PREFERRED for p in d.rglob(name)]
    if not found:
        raise NoCjkFont("no font covering Chinese is installed (Debian: apt-get install fonts-noto-cjk)")
    return min(found, key=lambda p: (p.name not in PREFERRED, PREFERRED.index(p.name) if p.name in PREFERRED else 0))
