"""Portfolio statistics for the regulator: by bank, region, industry, patent type, vintage, month."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from scoring.book import positions
from scoring.vocab.zh import label
from service.db.regulator_tables import LoanOutcome
from service.db.tables import Loan
from service.reports.exports import ExportFormat, to_bytes
from service.schemas.regulator import (
    Distribution,
    GroupBy,
    MonthPoint,
    PortfolioGroup,
    PortfolioReport,
    TicketBands,
)
from service.usecases.book import load_book

TEN_M, TWENTY_M = 10_000_000.0, 20_000_000.0
GROUP_COLUMN = {
    "bank": "institution",
    "region": "region",
    "industry": "industry",
    "patent_type": "patent_type",
    "vintage": "vintage",
}


def loan_frame(session: Session, *, today: date) -> pd.DataFrame:
    """Every booked loan with its origination facts and latest reported outcome as of ``today``.

    An outcome dated after ``today`` (accepted before such dates were refused) is not yet a fact:
    it must not override the truthful reports before it.
    """
    loans = session.exec(select(Loan)).all()
    frame = pd.DataFrame(
        [
            {
                "id": x.id,
                "institution": x.institution,
                "region": x.region,
                "industry": x.industry,
                "patent_type": x.patent_type,
                "amount": x.amount_cny,
                "pd": x.pd,
                "expected_loss": x.expected_loss,
                "collateral": x.collateral_p50,
                "ltv": x.ltv,
                "origination": pd.Timestamp(x.origination_date),
            }
            for x in loans
        ],
        columns=[
            "id",
            "institution",
            "region",
            "industry",
            "patent_type",
            "amount",
            "pd",
            "expected_loss",
            "collateral",
            "ltv",
            "origination",
        ],
    )
    outcomes = session.exec(
        select(LoanOutcome)
        .where(col(LoanOutcome.as_of) <= today)
        .order_by(col(LoanOutcome.loan_id), col(LoanOutcome.as_of), col(LoanOutcome.id))
    ).all()
    latest = {o.loan_id: o for o in outcomes}
    frame["npl_class"] = frame["id"].map(lambda i: latest[i].npl_class if i in latest else None)
    # The point-in-time book (scoring/book.py): outstanding principal and class today.
    now = {p.loan.loan_id: p for p in positions(load_book(session, loans=loans), today)}
    frame["balance"] = frame["id"].map(lambda i: now[i].balance_fen / 100).astype(float)
    frame["npl_now"] = frame["id"].map(lambda i: now[i].npl).astype(bool)
    frame["origination"] = pd.to_datetime(frame["origination"])
    for c in ("amount", "pd", "expected_loss", "collateral", "ltv"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    frame["vintage"] = frame["origination"].dt.year.astype("Int64").astype(str)
    frame["month"] = frame["origination"].dt.strftime("%Y-%m")
    return frame


def _quantile(s: pd.Series, q: float) -> float | None:
    s = s.dropna()
    return float(s.quantile(q)) if len(s) else None


def _group(key: str, g: pd.DataFrame) -> PortfolioGroup:
    amount = g["amount"]
    npl = g["npl_now"]
    balance = float(g["balance"].sum())
    return PortfolioGroup(
        key=key,
        loans=len(g),
        amount_cny=float(amount.sum()),
        tickets=TicketBands(
            under_10m=int((amount < TEN_M).sum()),
            from_10m_to_20m=int(((amount >= TEN_M) & (amount < TWENTY_M)).sum()),
            over_20m=int((amount >= TWENTY_M).sum()),
            amount_under_10m=float(amount[amount < TEN_M].sum()),
            amount_10m_to_20m=float(amount[(amount >= TEN_M) & (amount < TWENTY_M)].sum()),
            amount_over_20m=float(amount[amount >= TWENTY_M].sum()),
        ),
        average_pd=float(g["pd"].mean()) if g["pd"].notna().any() else None,
        expected_loss_cny=float(g["expected_loss"].fillna(0).sum()),
        balance_cny=balance,
        npl_count=int(npl.sum()),
        npl_amount_cny=float(g["balance"][npl].sum()),
        npl_rate=float(g["balance"][npl].sum()) / balance if balance > 0 else None,
        collateral_p50_cny=float(g["collateral"].fillna(0).sum()),
        ltv=Distribution(
            mean=float(g["ltv"].mean()) if g["ltv"].notna().any() else None,
            p10=_quantile(g["ltv"], 0.1),
            p50=_quantile(g["ltv"], 0.5),
            p90=_quantile(g["ltv"], 0.9),
        ),
    )


def portfolio_report(session: Session, group_by: GroupBy, *, today: date) -> PortfolioReport:
    """Statistics of every booked loan on ``today``, grouped by ``group_by``, with the monthly series."""
    frame = loan_frame(session, today=today)
    column = GROUP_COLUMN[group_by]
    groups = [_group(str(k), g) for k, g in frame.fillna({column: "unknown"}).groupby(column, sort=True)]
    monthly = [
        MonthPoint(
            month=str(m),
            loans=len(g),
            amount_cny=float(g["amount"].sum()),
            average_pd=float(g["pd"].mean()) if g["pd"].notna().any() else None,
            expected_loss_cny=float(g["expected_loss"].fillna(0).sum()),
        )
        for m, g in frame.groupby("month", sort=True)
    ]
    return PortfolioReport(group_by=group_by, total=_group("all", frame), groups=groups, monthly=monthly)


# Chinese headers of the published portfolio table (the JSON keeps the English field names).
HEADERS = {
    "group_by": "分组维度",
    "key": "分组",
    "loans": "累计发放笔数",
    "amount_cny": "累计发放金额（元）",
    "average_pd": "平均违约概率",
    "expected_loss_cny": "预期损失（元）",
    "balance_cny": "贷款余额（元）",
    "npl_count": "不良贷款笔数",
    "npl_amount_cny": "不良贷款余额（元）",
    "npl_rate": "不良贷款率",
    "collateral_p50_cny": "质押物估值中位数合计（元）",
    "tickets_under_10m": "1000万元以下笔数",
    "tickets_from_10m_to_20m": "1000万至2000万元笔数",
    "tickets_over_20m": "2000万元及以上笔数",
    "tickets_amount_under_10m": "1000万元以下金额（元）",
    "tickets_amount_10m_to_20m": "1000万至2000万元金额（元）",
    "tickets_amount_over_20m": "2000万元及以上金额（元）",
    "ltv_mean": "质押率均值",
    "ltv_p10": "质押率10分位",
    "ltv_p50": "质押率中位数",
    "ltv_p90": "质押率90分位",
}
GROUP_VOCABULARY = {"region": "region", "industry": "industry", "patent_type": "patent_type"}


def flatten(report: PortfolioReport) -> pd.DataFrame:
    """One row per group (and the total) with every figure as a column, Chinese headers and labels."""
    vocabulary = GROUP_VOCABULARY.get(report.group_by)
    rows: list[dict[str, Any]] = []
    for g in [*report.groups, report.total]:
        d = g.model_dump()
        key = "合计" if g is report.total else (label(vocabulary, g.key) if vocabulary else g.key)
        row = {
            "group_by": label("book_dim", report.group_by),
            **{k: v for k, v in d.items() if k not in ("tickets", "ltv")},
        }
        row["key"] = key
        row.update({f"tickets_{k}": v for k, v in d["tickets"].items()})
        row.update({f"ltv_{k}": v for k, v in d["ltv"].items()})
        rows.append(row)
    return pd.DataFrame(rows).rename(columns=HEADERS)


def export(report: PortfolioReport, fmt: ExportFormat) -> tuple[bytes, str]:
    """The flattened report as CSV (UTF-8 with BOM), Parquet or XLSX bytes, with its media type."""
    return to_bytes(flatten(report), fmt, sheet="贷款组合统计")
