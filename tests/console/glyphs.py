"""Checks that Chinese text really rendered as Chinese glyphs, not as empty boxes (tofu).

On a page: each CJK character of an element is located (a DOM range per character), cut from
the screenshot, and compared with the box Chromium draws for a character no font has
(U+10FFFD, drawn in the same element afterwards): every character must have ink, differ from
that box, and distinct characters must look distinct.  The font Chromium used for the element
is read through the DevTools protocol as well.  In a PDF: the title line (pure CJK, so every
character has the same width) is cut into one cell per character; the cells must have ink
and differ from one another, which a row of identical boxes cannot.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

CJK = re.compile(r"[\u4e00-\u9fff]")
TOFU = "\U0010fffd"
_BOXES = """(sel) => {
  const el = document.querySelector(sel); const out = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let n;
  while ((n = walker.nextNode())) {
    for (let i = 0; i < n.data.length; i++) {
      const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
      const b = r.getBoundingClientRect();
      out.push([n.data[i], b.x + window.scrollX, b.y + window.scrollY, b.width, b.height]);
    }
  }
  return out;
}"""
_ADD_TOFU = """(sel) => { const s = document.createElement('span'); s.id = 'tofu-probe';
  s.textContent = '\\u{10FFFD}'; document.querySelector(sel).appendChild(s); }"""


def bitmap(img: Image.Image, box: tuple[float, float, float, float], size: int = 24) -> np.ndarray:
    """The ink of ``box`` (x, y, w, h) as a size × size boolean array."""
    x, y, w, h = box
    crop = img.crop((int(x), int(y), int(x + w + 0.999), int(y + h + 0.999))).convert("L").resize((size, size))
    return np.asarray(crop) < 128


def page_glyphs(page: Any, selector: str, screenshot: bytes) -> dict[str, float]:
    """Check the CJK characters of ``selector`` in ``screenshot`` (full page); return figures for the message."""
    img = Image.open(io.BytesIO(screenshot))
    chars = [c for c in page.evaluate(_BOXES, selector) if CJK.match(c[0]) and c[3] > 0]
    assert len(chars) >= 2, f"{selector} shows no Chinese text"
    page.evaluate(_ADD_TOFU, selector)
    _, x, y, w, h = page.evaluate(_BOXES, "#tofu-probe")[0]
    clip = {"x": x, "y": y, "width": max(w, 1), "height": max(h, 1)}
    tofu = bitmap(Image.open(io.BytesIO(page.screenshot(clip=clip, full_page=True))), (0, 0, w, h))
    page.evaluate("() => document.getElementById('tofu-probe').remove()")
    maps = {c[0]: bitmap(img, tuple(c[1:])) for c in chars}
    for ch, m in maps.items():
        assert m.mean() > 0.03, f"{ch!r} in {selector} has no ink"
        assert (m != tofu).mean() > 0.05, f"{ch!r} in {selector} renders as the empty box of a missing glyph"
    distinct = {m.tobytes() for m in maps.values()}
    assert len(distinct) >= 0.8 * len(maps), f"{selector}: distinct characters look alike (boxes?)"
    return {"chars": len(maps), "distinct": len(distinct)}


def page_fonts(page: Any, selector: str) -> list[str]:
    """The font families Chromium drew ``selector``'s own text with (DevTools CSS.getPlatformFontsForNode)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return [f["familyName"] for f in fonts if f["glyphCount"] > 0]


def pdf_title_cells(pdf: Path, title: str, out_dir: Path) -> Path:
    """Render page 1 of ``pdf`` to PNG and check the title's characters; return the PNG."""
    text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert title in text, "the PDF's text has no Chinese title"
    dpi = 150
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", str(pdf), str(out_dir / "page")], check=True
    )
    png = next(out_dir.glob("page*.png"))
    html = subprocess.run(
        ["pdftotext", "-bbox", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    boxes = [
        tuple(float(v) for v in m.groups())
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">' + title, html)
    ]
    assert boxes, "the title's position is not in the PDF"
    x0, y0, x1, y1 = (v * dpi / 72 for v in boxes[0])
    img = Image.open(png)
    width = (x1 - x0) / len(title)
    cells = [bitmap(img, (x0 + i * width, y0, width, y1 - y0)) for i in range(len(title))]
    for ch, cell in zip(title, cells, strict=True):
        assert cell.mean() > 0.03, f"{ch!r} of the PDF title has no ink"
    distinct = {c.tobytes() for c in cells}
    assert len(distinct) >= 0.8 * len(set(title)), "the PDF title's characters look alike (boxes?)"
    return png
