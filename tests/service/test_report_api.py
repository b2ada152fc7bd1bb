"""The quarterly report in Chinese, as HTML and PDF; the PDF rendered to PNG pages shows Chinese glyphs.

The PDF's pages are rendered with pdftoppm (poppler-utils, installed by scripts/test.sh) and the
title band's ink is compared with the same report drawn in a font without Chinese (DejaVu Sans,
matplotlib's own): with the CJK font every glyph exists (no missing-glyph warning) and the band holds
far more ink than the fallback's empty boxes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import matplotlib
import numpy as np
import pytest
from matplotlib.image import imread
from sqlmodel import Session

from service.client import IpriskClient
from service.keys import new_key
from service.reports import quarterly
from service.reports.fonts import cjk_font
from service.usecases.reports import gather
from tests.factories import application, business_today
from tests.patent_numbers import fresh_patent_id
from tests.service.harness import Server
from tests.zh_scan import english_words, is_zh

_DAY = business_today() - timedelta(days=100)
PERIOD = f"{_DAY.year}Q{(_DAY.month - 1) // 3 + 1}"
TITLE = f"贵州省知识产权质押融资统计季报（{PERIOD[:4]}年第{PERIOD[5]}季度）"
needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm missing (poppler-utils)")


@pytest.fixture(scope="module")
def seeded(server: Server) -> None:
    """Two loans originated before the quarter ends, one in default; a licence; a bank's overall NPL ratio."""
    on = (_DAY - timedelta(days=130)).isoformat()
    ids = []
    for who, region in (("bank_a", "zunyi"), ("bank_b", "guiyang")):
        app = application(amount_cny=4e6, tenor_months=24, annual_rate=0.042)
        app["borrower"].update(region=region)
        app["as_of"] = on
        with server.client(who) as c:
            ids.append(c.book_loan({"assessment_id": c.assess(app).id, "origination_date": on}).id)
    with server.client("bank_a") as c:
        c.report_outcome(
            {
                "loan_id": ids[0],
                "as_of": _DAY.isoformat(),
                "status": "default",
                "days_past_due": 95,
                "npl_class": "substandard",
                "default_date": (_DAY - timedelta(days=95)).isoformat(),
            }
        )
        c.report_npl_ratio({"period": PERIOD, "npl_ratio": 0.015})
    with IpriskClient(server.base_url, api_key=new_key(server.settings, role="data_feed", institution="f")[0]) as f:
        f.register_transaction(
            {
                "type": "licence_exclusive",
                "patent_id": fresh_patent_id(),
                "occurred_on": _DAY.isoformat(),
                "owner": {"region": "zunyi", "industry": "baijiu"},
                "counterparty": {"industry": "other"},
                "royalty_rate": 0.04,
            }
        )


def _get(server: Server, fmt: str, period: str = PERIOD) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/v1/regulator/reports/{period}",
        params={"format": fmt},
        headers={"Authorization": f"Bearer {server.keys['regulator']}"},
        timeout=120,
    )


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip = tag == "style"
        self.texts += [v for k, v in attrs if k == "alt" and v]

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def test_the_html_report_is_chinese(server: Server, seeded: None) -> None:
    resp = _get(server, "html")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    parser = _Text()
    parser.feed(resp.text)
    assert TITLE in parser.texts and "遵义市" in parser.texts and "独占许可" in parser.texts
    assert "次级" not in parser.texts  # classes enter only as balances by class, not raw codes
    assert [(t, w) for t in parser.texts if is_zh(t) and (w := english_words(t))] == []
    assert len(re.findall(r'src="data:image/png;base64,', resp.text)) == 3
    bad = _get(server, "html", "2026-09")
    assert bad.status_code == 422 and bad.json()["field"] == "period"


def _title_glyphs(pdf: bytes, tmp: Path, name: str) -> tuple[int, float, int]:
    """(pages, ink share of the title band, distinct glyph shapes in it) of a PDF rendered at 100 dpi.

    The band is cut into glyphs at the blank columns; each glyph, cropped and sampled to 16 × 16,
    joins the first earlier shape it matches (mean difference under 0.12).  A font without Chinese
    draws every Chinese character as the same box, so its title has few distinct shapes.
    """
    (tmp / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(tmp / f"{name}.pdf"), str(tmp / name)], check=True)
    pages = sorted(tmp.glob(f"{name}-*.png"))
    gray = imread(pages[0])[..., :3].mean(axis=2)
    band = gray[: int(gray.shape[0] * 0.06), :] < 0.5
    columns = np.flatnonzero(band.any(axis=0))
    runs = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1) if len(columns) else []
    shapes: list[np.ndarray] = []
    for run in runs:
        glyph = band[:, run[0] : run[-1] + 1]
        rows = np.flatnonzero(glyph.any(axis=1))
        glyph = glyph[rows[0] : rows[-1] + 1]
        sample = glyph[np.linspace(0, glyph.shape[0] - 1, 16).astype(int)][
            :, np.linspace(0, glyph.shape[1] - 1, 16).astype(int)
        ]
        if not any(np.abs(sample.astype(float) - s).mean() < 0.12 for s in shapes):
            shapes.append(sample.astype(float))
    return len(pages), float(band.mean()), len(shapes)


@needs_poppler
def test_the_pdf_report_shows_chinese_glyphs(server: Server, seeded: None, tmp_path: Path) -> None:
    resp = _get(server, "pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    pages, ink, served_shapes = _title_glyphs(resp.content, tmp_path, "served")
    assert pages >= 5  # three table pages and three charts
    engine = server.engine()
    try:
        with Session(engine) as session:
            data = gather(session, PERIOD, today=business_today())
    finally:
        engine.dispose()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdf = quarterly.to_pdf(data, cjk_font())
    assert not [w for w in caught if "missing from font" in str(w.message)]
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    with pytest.warns(UserWarning, match="missing from font"):
        boxes = quarterly.to_pdf(data, dejavu)
    _, ink_here, shapes = _title_glyphs(pdf, tmp_path, "cjk")
    _, ink_boxes, box_shapes = _title_glyphs(boxes, tmp_path, "boxes")
    assert ink == pytest.approx(ink_here, rel=0.05) and served_shapes == shapes  # the served PDF is this one
    assert ink_here > 0.01 and ink_boxes > 0.01  # both titles have ink: boxes are ink too, so count shapes
    assert shapes >= 15 and box_shapes <= shapes // 2, (shapes, box_shapes)
