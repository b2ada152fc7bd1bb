"""The data contract rejects bad files and names the rows, columns and problems."""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel

from scoring.types import Borrower, LoanTerms, Patent
from tests.field_bounds import bounds
from training.contract import ENTERPRISES, LOANS, PATENTS, ContractError, Table, describe_markdown, load_dataset


@pytest.fixture
def data_copy(portfolio_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(portfolio_dir, dst)
    return dst


def _edit(path: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 1, column] = value
    frame.to_csv(path, index=False)


def test_generated_portfolio_loads(portfolio_dir: Path) -> None:
    frames = load_dataset(portfolio_dir)
    assert set(frames) >= {"patents", "enterprises", "loans", "loan_patents", "outcomes", "claims"}
    assert frames["loans"]["origination_date"].dtype.kind == "M"


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "problem"),
    [
        ("patents", 3, "patent_type", "trademark", "not one of"),
        ("patents", 5, "claims_count", "-2", "below the minimum"),
        ("loans", 7, "amount_cny", "lots", "not a number"),
        ("loans", 2, "origination_date", "2021/13/40", "not a YYYY-MM-DD date"),
        ("enterprises", 4, "high_tech", "maybe", "not a boolean"),
        ("loans", 9, "bank_id", "", "missing value"),
    ],
)
def test_bad_value_is_named(data_copy: Path, table: str, row: int, column: str, value: str, problem: str) -> None:
    _edit(data_copy / f"{table}.csv", row, column, value)
    with pytest.raises(ContractError) as info:
        load_dataset(data_copy)
    text = str(info.value)
    assert f"{table}.{column}: rows {row}" in text
    assert problem in text


def test_every_problem_is_reported_at_once(data_copy: Path) -> None:
    _edit(data_copy / "patents.csv", 1, "ipc_section", "Z")
    _edit(data_copy / "loans.csv", 1, "tenor_months", "2.5")
    with pytest.raises(ContractError) as info:
        load_dataset(data_copy)
    columns = {(p.table, p.column) for p in info.value.report.problems}
    assert {("patents", "ipc_section"), ("loans", "tenor_months")} <= columns


def test_grant_before_filing_and_dangling_keys(data_copy: Path) -> None:
    _edit(data_copy / "patents.csv", 2, "grant_date", "1990-01-01")
    _edit(data_copy / "loans.csv", 4, "enterprise_id", "E-does-not-exist")
    with pytest.raises(ContractError) as info:
        load_dataset(data_copy)
    text = str(info.value)
    assert "patents.grant_date: rows 2: before filing_date" in text
    assert "loans.enterprise_id: rows 4: refers to an unknown enterprises.enterprise_id" in text


def test_missing_and_unknown_columns(data_copy: Path) -> None:
    frame = pd.read_csv(data_copy / "outcomes.csv", dtype=str)
    frame.drop(columns=["npl_class"]).assign(surprise="x").to_csv(data_copy / "outcomes.csv", index=False)
    with pytest.raises(ContractError, match=r"outcomes: missing columns \['npl_class'\]"):
        load_dataset(data_copy)


def test_missing_table(data_copy: Path) -> None:
    (data_copy / "claims.csv").unlink()
    with pytest.raises(ContractError, match=r"no claims\.csv or claims\.parquet"):
        load_dataset(data_copy)


def test_contract_document_lists_every_table() -> None:
    doc = describe_markdown()
    for name in ("patents", "enterprises", "loans", "loan_patents", "outcomes", "claims", "patents_truth"):
        assert f"## `{name}`" in doc


def test_contract_document_is_current() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"
    assert doc.read_text(encoding="utf-8") == describe_markdown() + "\n", (
        "regenerate docs/data-contract.md from training.contract.describe_markdown()"
    )


API_TABLES = [(Patent, PATENTS), (Borrower, ENTERPRISES), (LoanTerms, LOANS)]


@pytest.mark.parametrize(("model", "table"), API_TABLES, ids=[m.__name__ for m, _ in API_TABLES])
def test_api_fields_accept_exactly_the_contracts_ranges(model: type[BaseModel], table: Table) -> None:
    """A request the API accepts is data the contract accepts (a loan of 0.5 CNY was accepted before)."""
    shared = [c for c in table.columns if c.name in model.model_fields]
    assert len(shared) >= 5
    for col in shared:
        if col.min is not None or col.max is not None:
            assert bounds(model.model_fields[col.name]) == (col.min, col.max, False), col.name
        if col.allowed:
            allowed = {a for a in typing.get_args(model.model_fields[col.name].annotation) if a is not None}
            assert allowed == set(col.allowed), col.name


def test_a_design_with_claims_is_named_and_designs_without_claims_load(data_copy: Path) -> None:
    frame = pd.read_csv(data_copy / "patents.csv", dtype=str, keep_default_na=False)
    design = frame.index[frame["patent_type"] == "design"]
    assert (frame.loc[design, "claims_count"] == "").all()  # the generator gives designs no claims
    row = int(design[0]) + 1
    _edit(data_copy / "patents.csv", row, "claims_count", "3")
    with pytest.raises(ContractError) as info:
        load_dataset(data_copy)
    assert f"patents.claims_count: rows {row}: a design patent has no claims" in str(info.value)


def test_a_nullable_column_the_file_lacks_reads_as_empty(data_copy: Path) -> None:
    """Files written before the disposal columns existed still load; the columns are empty."""
    frame = pd.read_csv(data_copy / "outcomes.csv", dtype=str)
    frame.drop(columns=["disposal_channel", "realised_lgd"], errors="ignore").to_csv(
        data_copy / "outcomes.csv", index=False
    )
    data = load_dataset(data_copy)
    assert data["outcomes"]["disposal_channel"].isna().all()
    assert data["outcomes"]["realised_lgd"].isna().all()
