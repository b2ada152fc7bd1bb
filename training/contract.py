"""The data contract: every table iprisk learns from, column by column.

This module is the single source of truth for column names, types, units,
allowed values and nullability.  The synthetic generator writes these tables,
the training pipeline reads them, and :mod:`scoring.features` builds model
inputs from rows shaped like them, so a bank's own history enters through the
same door as the bundled synthetic portfolio.

Files are CSV (``<table>.csv``) or Parquet (``<table>.parquet``) in one
directory.  Dates are ISO ``YYYY-MM-DD``; money is CNY (yuan); durations are
months unless a column says otherwise; booleans are ``true``/``false`` or 1/0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from scoring.vocab import (
    CLAIM_SOURCES,
    DISPOSAL_CHANNELS,
    INDUSTRIES,
    IPC_SECTIONS,
    LEGAL_STATUSES,
    LOAN_PURPOSES,
    NPL_CLASSES,
    OWNER_TYPES,
    PATENT_TYPES,
    PRICE_SOURCES,
    REGIONS,
    TECH_FIELDS,
)

Kind = Literal["str", "int", "float", "bool", "date", "category"]


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: Kind
    description: str
    unit: str = ""
    nullable: bool = False
    allowed: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Table:
    """A contract table: its key and columns."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    truth: bool = False
    required: bool = True
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        """Names of the columns in contract order."""
        return [c.name for c in self.columns]


_c = Column  # short, so the tables below read as lists of columns; every keyword is checked


PATENTS = Table(
    "patents",
    ("patent_id",),
    (
        _c("patent_id", "str", "Patent identifier (application number)."),
        _c("patent_type", "category", "Kind of patent.", allowed=PATENT_TYPES),
        _c("ipc_section", "category", "IPC section A-H.", allowed=IPC_SECTIONS),
        _c("tech_field", "category", "Technology field (royalty class).", allowed=TECH_FIELDS),
        _c("industry", "category", "Provincial industrial base.", allowed=INDUSTRIES),
        _c("filing_date", "date", "Filing date."),
        _c("grant_date", "date", "Grant date; empty while pending.", nullable=True),
        _c("legal_status", "category", "Legal status.", allowed=LEGAL_STATUSES),
        _c("annual_fees_paid_years", "int", "Years of annual fees paid.", unit="years", min=0, max=20),
        _c("fees_up_to_date", "bool", "Annual fees paid up to date."),
        _c(
            "claims_count",
            "int",
            "Number of claims; empty for a design (designs have no claims).",
            nullable=True,
            min=1,
            max=500,
        ),
        _c(
            "independent_claims",
            "int",
            "Number of independent claims; empty for a design.",
            nullable=True,
            min=1,
            max=100,
        ),
        _c("family_size", "int", "Patent family size.", min=1, max=500),
        _c("foreign_family_members", "int", "Family members filed abroad.", min=0, max=500),
        _c("forward_citations", "int", "Forward citations received.", min=0, max=10000),
        _c("licences_count", "int", "Licences granted.", min=0, max=1000),
        _c("transfers_count", "int", "Ownership transfers.", min=0, max=1000),
        _c("prior_pledges_count", "int", "Earlier (released) pledges.", min=0, max=100),
        _c("litigation_count", "int", "Infringement suits involving the patent.", min=0, max=1000),
        _c("invalidation_requests", "int", "Invalidation requests filed.", min=0, max=100),
        _c("invalidation_pending", "bool", "An invalidation request is pending."),
        _c("owner_type", "category", "Registered owner type.", allowed=OWNER_TYPES),
        _c(
            "owner_id",
            "str",
            "Registered owner's id as the lender records it: the enterprise's (or university's, institute's), "
            "or the individual's for a person.",
            nullable=True,
        ),
        _c("co_owned", "bool", "Patent has co-owners."),
        _c("co_owner_consent", "bool", "Co-owners consented to a pledge."),
        _c("ownership_dispute", "bool", "Ownership dispute recorded."),
        _c("preservation_order", "bool", "Court preservation order recorded."),
        _c("currently_pledged", "bool", "Registered in an active pledge now."),
        _c("strategic_emerging", "bool", "In a strategic emerging industry."),
        _c("patent_award", "bool", "Won a national patent award."),
        _c(
            "observed_price_cny",
            "float",
            "An observed price of the patent.",
            unit="CNY",
            nullable=True,
            min=0,
            max=1e11,
        ),
        _c("price_source", "category", "Where the observed price comes from.", nullable=True, allowed=PRICE_SOURCES),
        _c("price_date", "date", "Date of the observed price.", nullable=True),
    ),
    description="Patents: legal, technical and economic facts, and observed prices.",
)

ENTERPRISES = Table(
    "enterprises",
    ("enterprise_id",),
    (
        _c("enterprise_id", "str", "Enterprise (borrower) identifier."),
        _c("industry", "category", "Provincial industrial base.", allowed=INDUSTRIES),
        _c("region", "category", "Prefecture-level division.", allowed=REGIONS),
        _c("revenue_cny", "float", "Annual revenue.", unit="CNY", min=0, max=1e12),
        _c("employees", "int", "Employees.", min=1, max=1_000_000),
        _c("years_registered", "float", "Years since registration.", unit="years", min=0, max=100),
        _c("rd_intensity", "float", "R&D spend / revenue.", unit="ratio", min=0, max=5),
        _c("high_tech", "bool", "Certified high-tech enterprise."),
        _c("specialised_sme", "bool", "专精特新 (specialised, refined, distinctive, novel) status."),
        _c("is_sme", "bool", "Small or medium-sized enterprise."),
        _c("leverage", "float", "Liabilities / assets.", unit="ratio", min=0, max=5),
        _c("prior_overdue_count", "int", "Overdue episodes in credit history.", min=0, max=1000),
        _c("bad_credit_3y", "bool", "Bad credit record in the last 3 years."),
    ),
    description="Borrowing enterprises.",
)

LOANS = Table(
    "loans",
    ("loan_id",),
    (
        _c("loan_id", "str", "Loan identifier."),
        _c("enterprise_id", "str", "Borrower."),
        _c("bank_id", "str", "Lending bank."),
        _c("amount_cny", "float", "Principal.", unit="CNY", min=1, max=1e10),
        _c("tenor_months", "int", "Tenor.", unit="months", min=1, max=120),
        _c("annual_rate", "float", "Nominal annual interest rate.", unit="ratio", nullable=True, min=0, max=0.36),
        _c("purpose", "category", "Loan purpose.", allowed=LOAN_PURPOSES),
        _c("origination_date", "date", "Origination date."),
        _c("appraised_value_cny", "float", "Appraised value of the pledged package.", unit="CNY", min=0, max=1e11),
        _c("ltv", "float", "Amount / appraised value.", unit="ratio", min=0, max=10),
        _c("ip_share_of_collateral", "float", "IP share of all collateral.", unit="ratio", min=0, max=1),
        _c("insured_share", "float", "Share of loss covered by insurance.", unit="ratio", min=0, max=1),
        _c("pooled", "bool", "Registered in a risk-compensation fund pool."),
        _c("fund_id", "str", "Fund of the pool.", nullable=True),
    ),
    description="Patent-pledge loans.",
)

LOAN_PATENTS = Table(
    "loan_patents",
    ("loan_id", "patent_id"),
    (
        _c("loan_id", "str", "Loan."),
        _c("patent_id", "str", "Pledged patent."),
    ),
    description="Which patents each loan pledges.",
)

OUTCOMES = Table(
    "outcomes",
    ("loan_id",),
    (
        _c("loan_id", "str", "Loan."),
        _c("default_12m", "bool", "Defaulted within 12 months of origination."),
        _c("days_past_due", "int", "Maximum days past due.", unit="days", min=0, max=10000),
        _c("npl_class", "category", "Five-category loan classification.", allowed=NPL_CLASSES),
        _c("default_date", "date", "Date of default (any default in the tenor seen by observed_until).", nullable=True),
        _c(
            "observed_until",
            "date",
            "Date the outcome was observed to; a default after it is not known yet (censoring).",
            nullable=True,
        ),
        _c(
            "disposal_price_cny",
            "float",
            "Price realised for the pledged patents.",
            unit="CNY",
            nullable=True,
            min=0,
            max=1e11,
        ),
        # The disposal of the pledged patents after a default (issues 12 and 13); empty when none was made.
        _c("ead_cny", "float", "Exposure at default.", unit="CNY", nullable=True, min=0, max=1e10),
        _c(
            "disposal_channel",
            "category",
            "How the patents were disposed of.",
            nullable=True,
            allowed=DISPOSAL_CHANNELS,
        ),
        _c("auction_rounds", "int", "Auction rounds held (failed rounds + the sale).", nullable=True, min=0, max=20),
        _c("disposal_date", "date", "Date the proceeds were received.", nullable=True),
        _c("disposal_costs_cny", "float", "Costs of the disposal.", unit="CNY", nullable=True, min=0, max=1e11),
        _c("recovery_cny", "float", "Net proceeds applied to the loan.", unit="CNY", nullable=True, min=0, max=1e11),
        _c(
            "realised_lgd",
            "float",
            "Realised loss given default (discounted).",
            unit="ratio",
            nullable=True,
            min=0,
            max=1,
        ),
    ),
    description="What happened to each loan.",
)

CLAIMS = Table(
    "claims",
    ("claim_id",),
    (
        _c("claim_id", "str", "Claim identifier."),
        _c("loan_id", "str", "Defaulted pooled loan."),
        _c("fund_id", "str", "Fund claimed against."),
        _c("bank_id", "str", "Claiming bank."),
        _c("filing_date", "date", "Date the claim was filed."),
        _c("principal_outstanding_cny", "float", "Principal outstanding at default.", unit="CNY", min=0, max=1e10),
        _c("claimed_amount_cny", "float", "Amount claimed.", unit="CNY", min=0, max=1e10),
        _c("working_days_to_file", "int", "Working days from default to filing.", unit="days", min=0, max=3650),
        _c("evidence_provided", "bool", "Collection or litigation evidence attached."),
        _c("patent_pledged_elsewhere", "bool", "A pledged patent is also pledged elsewhere."),
        _c("bank_prior_claims", "int", "Claims the bank filed earlier.", min=0, max=100000),
        _c("review_source", "category", "How the review outcome was found.", allowed=CLAIM_SOURCES),
        _c("review_irregular", "bool", "The fund's review found the claim irregular."),
    ),
    description="Claims on defaulted pooled loans, with review findings.",
)

PATENTS_TRUTH = Table(
    "patents_truth",
    ("patent_id",),
    (
        _c("patent_id", "str", "Patent."),
        _c("true_quality", "float", "Latent quality (standard normal)."),
        _c("true_value_cny", "float", "True value (relief from royalty).", unit="CNY", min=0),
    ),
    truth=True,
    required=False,
)

LOANS_TRUTH = Table(
    "loans_truth",
    ("loan_id",),
    (
        _c("loan_id", "str", "Loan."),
        _c(
            "true_pd",
            "float",
            "True 12-month PD (same as true_pd_12m; kept for readers of version 1).",
            unit="probability",
            min=0,
            max=1,
        ),
        _c("true_pd_12m", "float", "True 12-month PD.", unit="probability", min=0, max=1),
        _c("true_pd_tenor", "float", "True cumulative PD over the loan's tenor.", unit="probability", min=0, max=1),
        _c("true_lgd", "float", "Expected discounted LGD given a default.", unit="ratio", min=0, max=1),
    ),
    truth=True,
    required=False,
)

CLAIMS_TRUTH = Table(
    "claims_truth",
    ("claim_id",),
    (
        _c("claim_id", "str", "Claim."),
        _c("true_irregular", "bool", "The claim is truly irregular."),
        _c("true_irregular_prob", "float", "Probability the claim is irregular.", min=0, max=1),
    ),
    truth=True,
    required=False,
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        PATENTS,
        ENTERPRISES,
        LOANS,
        LOAN_PATENTS,
        OUTCOMES,
        CLAIMS,
        PATENTS_TRUTH,
        LOANS_TRUTH,
        CLAIMS_TRUTH,
    )
}


@dataclass
class Problem:
    """One problem found in a data file."""

    table: str
    column: str | None
    rows: list[int]
    problem: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        shown = ", ".join(str(r) for r in self.rows[:10])
        more = f" (+{len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
        if not self.rows:
            return f"{where}: {self.problem}"
        return f"{where}: rows {shown}{more}: {self.problem}"


@dataclass
class ValidationReport:
    """Problems found in a data directory; empty means the data is usable."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return "data is valid"
        return "\n".join(str(p) for p in self.problems)


class ContractError(ValueError):
    """Raised when data breaks the contract; carries the full report."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(f"data breaks the contract:\n{report}")
        self.report = report


_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def _row_numbers(mask: pd.Series) -> list[int]:
    # Row numbers as a person sees them in the file: 1-based data rows.
    return [int(i) + 1 for i in np.flatnonzero(mask.to_numpy())]


def _coerce(table: Table, col: Column, raw: pd.Series, problems: list[Problem]) -> pd.Series:
    empty = raw.isna() | (raw.astype("string").str.strip() == "")
    if not col.nullable and empty.any():
        problems.append(Problem(table.name, col.name, _row_numbers(empty), "missing value"))
    text = raw.astype("string").str.strip()
    if col.kind in ("str", "category"):
        out = text.where(~empty, None).astype(object)
        if col.allowed:
            bad = ~empty & ~text.isin(col.allowed).fillna(False)
            if bad.any():
                seen = sorted({str(v) for v in text[bad].head(5)})
                problems.append(
                    Problem(table.name, col.name, _row_numbers(bad), f"not one of {list(col.allowed)} (got {seen})")
                )
        return out
    if col.kind == "bool":
        low = text.str.lower()
        bad = ~empty & ~low.isin(_TRUE | _FALSE).fillna(False)
        if bad.any():
            problems.append(Problem(table.name, col.name, _row_numbers(bad), "not a boolean"))
        return low.isin(_TRUE).fillna(False).astype(bool)
    if col.kind == "date":
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = ~empty & parsed.isna()
        if bad.any():
            problems.append(Problem(table.name, col.name, _row_numbers(bad), "not a YYYY-MM-DD date"))
        return parsed
    num = pd.to_numeric(text, errors="coerce")
    bad = ~empty & num.isna()
    if bad.any():
        problems.append(Problem(table.name, col.name, _row_numbers(bad), f"not a number ({col.kind})"))
    if col.kind == "int":
        frac = ~num.isna() & (num != np.floor(num))
        if frac.any():
            problems.append(Problem(table.name, col.name, _row_numbers(frac), "not a whole number"))
    if col.min is not None:
        low_mask = num < col.min
        if low_mask.fillna(False).any():
            problems.append(
                Problem(table.name, col.name, _row_numbers(low_mask.fillna(False)), f"below the minimum {col.min:g}")
            )
    if col.max is not None:
        high = num > col.max
        if high.fillna(False).any():
            problems.append(
                Problem(table.name, col.name, _row_numbers(high.fillna(False)), f"above the maximum {col.max:g}")
            )
    return num.astype(float)


def validate_frame(table: Table, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Check and type one table.

    Parameters
    ----------
    table
        The contract table the frame claims to be.
    frame
        Raw frame as read from a file (any dtypes).

    Returns
    -------
    tuple
        The typed frame (contract columns only, in contract order) and the
        problems found; the frame is only meaningful when no problem was found.
    """
    problems: list[Problem] = []
    # A nullable column the file lacks reads as empty (files written before the column existed);
    # a required one is a problem.
    absent = [c.name for c in table.columns if c.nullable and c.name not in frame.columns]
    if absent:
        frame = frame.assign(
            **{name: pd.Series([None] * len(frame), index=frame.index, dtype=object) for name in absent}
        )
    missing = [c for c in table.column_names if c not in frame.columns]
    if missing:
        problems.append(Problem(table.name, None, [], f"missing columns {missing}"))
        return frame, problems
    extra = [c for c in frame.columns if c not in table.column_names]
    if extra:
        problems.append(Problem(table.name, None, [], f"unknown columns {extra}"))
    out = pd.DataFrame(index=frame.index)
    for col in table.columns:
        out[col.name] = _coerce(table, col, frame[col.name], problems)
    dup = out.duplicated(subset=list(table.key), keep="first")
    if dup.any():
        problems.append(Problem(table.name, ",".join(table.key), _row_numbers(dup), "duplicate key"))
    return out.reset_index(drop=True), problems


def _read_raw(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype(object)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def find_table_file(directory: Path, name: str) -> Path | None:
    """Return the file holding table ``name`` in ``directory``, if any."""
    for suffix in (".parquet", ".csv"):
        p = directory / f"{name}{suffix}"
        if p.exists():
            return p
    return None


def _cross_checks(frames: Mapping[str, pd.DataFrame], problems: list[Problem]) -> None:
    def dangling(child: str, col: str, parent: str, pcol: str) -> None:
        if child not in frames or parent not in frames:
            return
        known = set(frames[parent][pcol])
        mask = ~frames[child][col].isin(known) & frames[child][col].notna()
        if mask.any():
            problems.append(Problem(child, col, _row_numbers(mask), f"refers to an unknown {parent}.{pcol}"))

    dangling("loans", "enterprise_id", "enterprises", "enterprise_id")
    dangling("loan_patents", "loan_id", "loans", "loan_id")
    dangling("loan_patents", "patent_id", "patents", "patent_id")
    dangling("outcomes", "loan_id", "loans", "loan_id")
    dangling("claims", "loan_id", "loans", "loan_id")
    if "patents" in frames:
        p = frames["patents"]
        early = p["grant_date"].notna() & (p["grant_date"] < p["filing_date"])
        if early.any():
            problems.append(Problem("patents", "grant_date", _row_numbers(early), "before filing_date"))
        indep = p["independent_claims"] > p["claims_count"]
        if indep.any():
            problems.append(
                Problem("patents", "independent_claims", _row_numbers(indep), "more independent claims than claims")
            )
        design = p["patent_type"] == "design"
        for name in ("claims_count", "independent_claims"):
            claimed = design & p[name].notna()
            if claimed.any():
                problems.append(
                    Problem("patents", name, _row_numbers(claimed), "a design patent has no claims: leave it empty")
                )


def load_dataset(
    directory: str | Path, *, tables: tuple[str, ...] | None = None, truth: bool = True
) -> dict[str, pd.DataFrame]:
    """Read, check and type every contract table in ``directory``.

    Parameters
    ----------
    directory
        Directory holding ``<table>.csv`` or ``<table>.parquet`` files.
    tables
        Tables to read (default: all required tables present plus truth
        tables when ``truth``).
    truth
        Also read ``*_truth`` tables if present (evaluation only).

    Returns
    -------
    dict
        Typed frames by table name.

    Raises
    ------
    ContractError
        When any file is missing or breaks the contract; nothing is returned.
    """
    directory = Path(directory)
    names = tables or tuple(n for n, t in TABLES.items() if not t.truth or truth)
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    for name in names:
        table = TABLES[name]
        path = find_table_file(directory, name)
        if path is None:
            if table.required or tables is not None:
                problems.append(Problem(name, None, [], f"no {name}.csv or {name}.parquet in {directory}"))
            continue
        try:
            raw = _read_raw(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a contract problem
            problems.append(Problem(name, None, [], f"unreadable: {exc}"))
            continue
        typed, found = validate_frame(table, raw)
        problems.extend(found)
        frames[name] = typed
    if not problems:
        _cross_checks(frames, problems)
    if problems:
        raise ContractError(ValidationReport(problems))
    return frames


def write_table(frame: pd.DataFrame, directory: Path, name: str, *, fmt: str = "csv") -> Path:
    """Write a contract table in the contract's text conventions."""
    table = TABLES[name]
    out = frame[table.column_names].copy()
    for col in table.columns:
        if col.kind == "date":
            out[col.name] = pd.to_datetime(out[col.name]).dt.strftime("%Y-%m-%d")
        elif col.kind == "bool":
            out[col.name] = out[col.name].map({True: "true", False: "false"})
    path = directory / f"{name}.{fmt}"
    if fmt == "parquet":
        out.to_parquet(path, index=False)
    else:
        out.to_csv(path, index=False)
    return path


def describe_markdown() -> str:
    """Render the contract as a Markdown document (``docs/data-contract.md``)."""
    lines = ["# Data contract", "", (__doc__ or "").strip(), ""]
    for t in TABLES.values():
        tag = " (ground truth, evaluation only)" if t.truth else ""
        lines += [
            f"## `{t.name}`{tag}",
            "",
            t.description,
            "",
            f"Key: {', '.join(t.key)}",
            "",
            "| column | type | unit | nullable | allowed / range | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for c in t.columns:
            rng = (
                ", ".join(c.allowed)
                if c.allowed
                else (f"{c.min:g} … {c.max:g}" if c.min is not None and c.max is not None else "")
            )
            null = "yes" if c.nullable else "no"
            lines.append(f"| {c.name} | {c.kind} | {c.unit} | {null} | {rng} | {c.description} |")
        lines.append("")
    return "\n".join(lines)
