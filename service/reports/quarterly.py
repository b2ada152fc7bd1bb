"""The quarterly report in Chinese: indicators, the book by 市州 and industrial base, tolerance, transactions.

:class:`QuarterData` holds the figures (gathered by :mod:`service.usecases.reports`); :func:`to_html`
writes one self-contained HTML page (charts embedded as PNG), :func:`to_pdf` the same content as
A4 pages drawn by matplotlib in a CJK font (:mod:`.fonts`).  Amounts are shown in 万元, ratios as
percentages; every label comes from :mod:`scoring.vocab.zh`.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Figures are built without pyplot: its global state is not safe across the server's worker threads.
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from service.reports.exports import value_label
from service.schemas.book import BookReport, BookSnapshot, ToleranceRow
from service.schemas.regulator import OfficialIndicators
from service.schemas.transactions import TransactionStatistics

Table = tuple[str, list[str], list[list[str]]]
"""A titled table: title, header, rows of cells."""


@dataclass(frozen=True)
class QuarterData:
    """Everything the quarterly report shows."""

    period: str
    generated_on: date
    indicators: OfficialIndicators
    by_region: BookReport
    by_industry: BookReport
    snapshots: list[BookSnapshot]
    tolerance: list[ToleranceRow]
    transactions: TransactionStatistics


def _wan(cny: float | None) -> str:
    return "—" if cny is None else f"{cny / 10_000:,.2f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f}%"


def _points(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f}个百分点"


def title(d: QuarterData) -> str:
    """The report's title."""
    return f"贵州省知识产权质押融资统计季报（{d.period[:4]}年第{d.period[5]}季度）"


def tables(d: QuarterData) -> list[Table]:
    """The report's tables, in order."""
    i = d.indicators
    summary = [
        ["累计发放笔数", f"{i.cumulative_loans}"],
        ["累计发放金额（万元）", _wan(i.cumulative_amount_cny)],
        ["本季发放笔数", f"{i.period_loans}"],
        ["本季发放金额（万元）", _wan(i.period_amount_cny)],
        ["季末贷款余额（万元）", _wan(i.balance_cny)],
        ["季末不良贷款余额（万元）", _wan(i.npl_balance_cny)],
        ["季末不良贷款率", _pct(i.npl_ratio)],
        ["惠企数（家）", f"{i.enterprises_served}"],
        ["本季首贷户（家）", f"{i.first_time_borrowers}"],
        ["本季平均利率", _pct(i.rate.mean)],
        ["本季利率中位数", _pct(i.rate.median)],
        ["普惠类占比（1000万元以下，笔数）", _pct(i.inclusive_share_of_loans)],
        ["质押专利数（件）", f"{i.pledged_patents}"],
        ["质押登记数（笔）", f"{i.registrations}"],
        ["高价值发明专利占比", _pct(i.high_value_share)],
    ]
    book_header = ["贷款笔数", "贷款余额（万元）", "不良贷款余额（万元）", "不良贷款率"]

    def book_rows(r: BookReport, dim: str) -> list[list[str]]:
        rows = [
            [
                value_label(r.by[0], c.keys[dim]),
                f"{c.loans}",
                _wan(c.balance_cny),
                _wan(c.npl_balance_cny),
                _pct(c.npl_ratio),
            ]
            for c in r.cells
        ]
        t = r.total
        return [*rows, ["合计", f"{t.loans}", _wan(t.balance_cny), _wan(t.npl_balance_cny), _pct(t.npl_ratio)]]

    tolerance = [
        [
            t.bank,
            _pct(t.ip_npl_ratio),
            _pct(t.overall_npl_ratio),
            _points(t.gap),
            {True: "在容忍度内", False: "超出容忍度", None: "未报送"}[t.within_tolerance],
        ]
        for t in d.tolerance
    ]
    x = d.transactions
    trades = [[g.label, f"{g.count}", _wan(g.amount_cny)] for g in x.by_type]
    trades.append(["合计", f"{x.count}", _wan(x.amount_cny)])
    royalty = [
        [r.label, f"{r.licences}", _pct(r.mean), _pct(r.median), _pct(r.p25), _pct(r.p75)] for r in x.royalty_rates
    ]
    return [
        ("一、主要指标", ["指标", "数值"], summary),
        ("二、按市州统计的贷款余额与不良率", ["市州", *book_header], book_rows(d.by_region, "region")),
        ("三、按产业基地统计的贷款余额与不良率", ["产业基地", *book_header], book_rows(d.by_industry, "industry")),
        (
            "四、各银行不良率容忍度（高出全部贷款不良率3个百分点以内不予处罚）",
            ["银行", "知识产权质押不良率", "全部贷款不良率", "差距", "结论"],
            tolerance,
        ),
        ("五、知识产权交易登记", ["交易类型", "笔数", "金额（万元）"], trades),
        ("六、专利许可费率（按产业基地）", ["产业基地", "许可数", "均值", "中位数", "下四分位", "上四分位"], royalty),
    ]


def charts(d: QuarterData, font: Path) -> list[Figure]:
    """Balance and NPL ratio by quarter end; balance by 市州; transactions by type."""
    fp = FontProperties(fname=str(font))
    figs = []
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    on = [f"{s.on.year}年{s.on.month}月" for s in d.snapshots]
    ax.bar(on, [s.total.balance_cny / 10_000 for s in d.snapshots], color="#4a7ab5")
    ax.set_ylabel("贷款余额（万元）", fontproperties=fp)
    ax2 = ax.twinx()
    ax2.plot(on, [(s.total.npl_ratio or 0) * 100 for s in d.snapshots], color="#c0392b", marker="o")
    ax2.set_ylabel("不良贷款率（%）", fontproperties=fp)
    ax.set_title("各季末贷款余额与不良贷款率", fontproperties=fp)
    for t in ax.get_xticklabels():
        t.set_fontproperties(fp)
    figs.append(fig)
    figs.append(
        _barh(
            [value_label("region", c.keys["region"]) for c in d.by_region.cells],
            [c.balance_cny / 10_000 for c in d.by_region.cells],
            "季末贷款余额（万元，按市州）",
            fp,
        )
    )
    figs.append(
        _barh(
            [g.label for g in d.transactions.by_type],
            [g.count for g in d.transactions.by_type],
            "本季知识产权交易登记笔数（按类型）",
            fp,
        )
    )
    for f in figs:
        f.tight_layout()
    return figs


def _barh(labels: Sequence[str], values: Sequence[float], heading: str, fp: FontProperties) -> Figure:
    fig = Figure(figsize=(8, max(2.0, 0.45 * len(labels) + 1)))
    ax = fig.subplots()
    ax.barh(list(labels) or ["无"], list(values) or [0], color="#4a7ab5")
    ax.set_title(heading, fontproperties=fp)
    for t in ax.get_yticklabels():
        t.set_fontproperties(fp)
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode()


def to_html(d: QuarterData, font: Path) -> str:
    """The report as one self-contained HTML page."""
    e = html.escape
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(title(d))}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:4px 8px}"
        "td{text-align:right}td:first-child{text-align:left}</style></head><body>",
        f"<h1>{e(title(d))}</h1>",
        f"<p>统计期间：{d.indicators.start}至{d.indicators.end}；生成日期：{d.generated_on}。</p>",
    ]
    for heading, header, rows in tables(d):
        parts.append(f"<h2>{e(heading)}</h2><table><tr>{''.join(f'<th>{e(h)}</th>' for h in header)}</tr>")
        parts += [f"<tr>{''.join(f'<td>{e(c)}</td>' for c in row)}</tr>" for row in rows]
        parts.append("</table>")
    parts.append("<h2>七、图表</h2>")
    parts += [f'<p><img alt="图表" src="data:image/png;base64,{_png(f)}"></p>' for f in charts(d, font)]
    parts.append(f"<p>{e(NOTE)}</p></body></html>")
    return "\n".join(parts)


NOTE = (
    "口径说明：不良贷款率为季末不良贷款余额除以贷款余额（商业银行金融资产风险分类办法，2023年7月1日起施行）；"
    "高价值发明专利按国家知识产权局五项标准认定；普惠类指单笔1000万元以下。"
)


def _table_page(pdf: PdfPages, items: Sequence[Table], fp: FontProperties, heading: str | None) -> None:
    fig = Figure(figsize=(8.27, 11.69))
    y = 0.95
    if heading:
        fig.text(0.06, y, heading, fontproperties=fp, fontsize=15)
        y -= 0.05
    for name, header, rows in items:
        fig.text(0.06, y, name, fontproperties=fp, fontsize=11)
        height = 0.022 * (len(rows) + 1)
        ax = fig.add_axes((0.06, y - 0.01 - height, 0.88, height))
        ax.axis("off")
        table = ax.table(
            cellText=rows or [["无"] + [""] * (len(header) - 1)], colLabels=header, loc="upper left", cellLoc="center"
        )
        table.auto_set_font_size(False)
        for cell in table.get_celld().values():
            cell.get_text().set_fontproperties(fp)
            cell.get_text().set_fontsize(8)
        y -= height + 0.06
    _save(pdf, fig)


def _save(pdf: PdfPages, fig: Figure) -> None:
    pdf.savefig(fig)  # type: ignore[no-untyped-call]  # matplotlib's stubs leave PdfPages.savefig untyped


def to_pdf(d: QuarterData, font: Path) -> bytes:
    """The report as A4 PDF pages: title and indicators, the tables, then the charts."""
    fp = FontProperties(fname=str(font))
    t = tables(d)
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        _table_page(pdf, t[:2], fp, title(d))
        _table_page(pdf, t[2:4], fp, None)
        _table_page(pdf, t[4:], fp, None)
        for fig in charts(d, font):
            _save(pdf, fig)
        info = pdf.infodict()
        info["Title"] = title(d)
    return buf.getvalue()
