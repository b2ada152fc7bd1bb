"""Generic training files as people have them, and every user error as one line with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from models_store import ModelStore
from service.cli import app
from training.tabular import TableError, read_table

DATA = Path(__file__).parent / "data"
CSV = DATA / "credit_small.csv"
SPEC = DATA / "credit_small.spec.yaml"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IPRISK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _chinese_frame() -> pd.DataFrame:
    """The credit file as a Chinese spreadsheet would hold it: a Chinese column name and labels."""
    frame = pd.read_csv(CSV).rename(columns={"employment": "就业状况"})
    frame["就业状况"] = frame["就业状况"].map(
        {"salaried": "受雇", "self_employed": "自雇", "unemployed": "失业", "retired": "退休"}
    )
    return frame


def _train(path: Path, *extra: str) -> Result:
    return _invoke(
        "train", "--task", "binary", "--data", str(path), "--target", "defaulted", "--name", "credit",
        "--spec", str(SPEC), *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("suffix", "encoding", "sep", "reported"),
    [
        (".csv", "utf-8", ",", "csv, encoding utf-8, separator comma"),
        (".csv", "utf-8-sig", "\t", "csv, encoding utf-8-sig, separator tab"),
        (".csv", "gbk", ";", "csv, encoding gb18030, separator semicolon"),
        (".txt", "gb18030", ",", "csv, encoding gb18030, separator comma"),
        (".xlsx", None, None, "xlsx"),
        (".parquet", None, None, "parquet"),
    ],
)
def test_each_file_variant_trains_and_reports_its_format(
    env: Path, tmp_path: Path, suffix: str, encoding: str | None, sep: str | None, reported: str
) -> None:
    frame = _chinese_frame()
    path = tmp_path / f"credit{suffix}"
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep=sep or ",", encoding=encoding)
    result = _train(path)
    assert result.exit_code == 0, result.output
    assert f"read {path}: {reported}, {len(frame)} rows" in result.output
    manifest = ModelStore(env / "models").verify("credit", "1")
    employment = next(f for f in manifest.features if f.name == "就业状况")
    assert set(employment.categories or ()) == {"受雇", "自雇", "失业", "退休"}
    assert manifest.extra["data_format"]["kind"] == reported.split(",")[0]
    scored = tmp_path / "scored.csv"
    out = _invoke("predict", "--model", "credit", "--data", str(path), "--out", str(scored))
    assert out.exit_code == 0, out.output
    assert len(pd.read_csv(scored)) == len(frame)


def test_format_overrides_win_over_detection(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("a|b\n1|2\n3|4\n", encoding="utf-8")
    frame, fmt = read_table(path, separator="|", encoding="utf-8")
    assert list(frame.columns) == ["a", "b"]
    assert fmt.describe() == "csv, encoding utf-8, separator '|'"


def test_a_bad_number_names_file_row_and_column(env: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(CSV)
    frame["age"] = frame["age"].astype(object)
    frame.loc[3, "age"] = "forty"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    result = _train(path)
    assert result.exit_code == 2
    # data row 3 (0-based) is the fifth line of the file: the header is row 1
    assert f"{path}: row 5, column 'age': 'forty' is not a number" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 2  # the format line, then the one error line


def test_a_ragged_row_names_the_line(env: Path, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    lines = CSV.read_text(encoding="utf-8").splitlines()
    lines[6] += ",extra"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _train(path)
    assert result.exit_code == 2
    assert "Expected 7 fields in line 7, saw 8" in result.output
    assert "Traceback" not in result.output


def test_an_empty_target_names_the_row(env: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(CSV)
    frame.loc[0, "defaulted"] = None
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    result = _train(path)
    assert result.exit_code == 2
    assert f"{path}: row 2, column 'defaulted': the target is empty" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "--task", "binary", "--data", "nowhere.csv", "--target", "t", "--name", "n"],
            "nowhere.csv: no such file",
        ),
        (["predict", "--model", "nosuchmodel", "--data", str(CSV), "--out", "x.csv"], "nosuchmodel"),
        (["models", "show", "credit:99"], "credit"),
        (["models", "history", "nosuchmodel"], "no model named 'nosuchmodel'"),
        (["train", "--data", "nowhere", "--model", "pdx"], "--model must be one of"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(env: Path, args: list[str], message: str) -> None:
    result = _invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_bad_date_is_one_line_and_debug_shows_the_traceback(env: Path) -> None:
    assert _train(CSV).exit_code == 0
    result = _invoke("models", "history", "credit", "--on", "2026-13-45")
    assert result.exit_code == 2
    assert "'2026-13-45' is not an ISO date" in result.output
    assert "Traceback" not in result.output
    debug = _invoke("--debug", "models", "history", "credit", "--on", "2026-13-45")
    assert debug.exit_code == 2
    assert "Traceback" in debug.output
    assert "ValueError" in debug.output


def test_a_bad_spec_key_is_named(env: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("id_column: [applicant_id]\n", encoding="utf-8")
    result = _invoke(
        "train", "--task", "binary", "--data", str(CSV), "--target", "defaulted", "--name", "c", "--spec", str(spec)
    )
    assert result.exit_code == 2
    assert f"{spec}: spec key 'id_column'" in result.output


def test_undecodable_text_is_refused_with_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"\xff\xfe\xff\xff,3\n")
    with pytest.raises(TableError, match=r"latin\.csv: bad utf-8 text at byte"):
        read_table(path, encoding="utf-8")


def test_chinese_text_after_an_ascii_start_is_still_read_as_gb18030(tmp_path: Path) -> None:
    rows = ["id,amount,sector"] + [f"{i},{i * 10},plain" for i in range(6000)] + ["6000,5,制造业"]
    path = tmp_path / "late.csv"
    path.write_bytes("\n".join(rows).encode("gbk"))
    frame, fmt = read_table(path)
    assert fmt.encoding == "gb18030"
    assert frame["sector"].iloc[-1] == "制造业"
