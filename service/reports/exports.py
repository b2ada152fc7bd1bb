"""Tables for publication: Chinese headers and labels, written as CSV (UTF-8 with BOM), Parquet or XLSX."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import pandas as pd

from scoring.book import BookDim
from scoring.vocab.zh import label
from service.schemas.book import BookCell

ExportFormat = Literal["csv", "parquet", "xlsx"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
MEDIA: Mapping[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The vocabulary of scoring.vocab.zh whose labels a dimension's values take; bank (an institution's
# id) and vintage (a year) are shown as they are.
DIM_VOCABULARY: Mapping[BookDim, str | None] = {
    "bank": None,
    "region": "region",
    "industry": "industry",
    "patent_type": "patent_type",
    "ticket_band": "ticket_band",
    "vintage": None,
}
TOTAL = "合计"
BOOK_COLUMNS = {
    "loans": "贷款笔数",
    "balance_cny": "贷款余额（元）",
    "npl_balance_cny": "不良贷款余额（元）",
    "npl_ratio": "不良贷款率",
}


def value_label(dim: BookDim, value: str) -> str:
    """A dimension's value as a zh text shows it."""
    vocabulary = DIM_VOCABULARY[dim]
    return label(vocabulary, value) if vocabulary else value


def book_frame(cells: Sequence[BookCell], total: BookCell, by: Sequence[BookDim]) -> pd.DataFrame:
    """One row per cell and the total, Chinese headers and labels, balances by class as columns."""
    rows = []
    for c in [*cells, total]:
        row: dict[str, object] = {label("book_dim", d): value_label(d, c.keys[d]) if c.keys else TOTAL for d in by} or {
            "范围": TOTAL
        }
        row.update({zh: getattr(c, name) for name, zh in BOOK_COLUMNS.items()})
        row.update({f"{label('npl_class', k)}类余额（元）": v for k, v in c.by_class_cny.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def to_bytes(frame: pd.DataFrame, fmt: ExportFormat, *, sheet: str) -> tuple[bytes, str]:
    """``frame`` as a file of format ``fmt`` and its media type (CSV with a BOM; XLSX on sheet ``sheet``)."""
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue(), MEDIA[fmt]
    if fmt == "xlsx":
        buf = io.BytesIO()
        frame.to_excel(buf, index=False, sheet_name=sheet, engine="openpyxl")
        return buf.getvalue(), MEDIA[fmt]
    return frame.to_csv(index=False).encode("utf-8-sig"), MEDIA[fmt]
