"""``iprisk export contract DIR``: the service's database as a training data set of the data contract.

The tables come from :func:`service.usecases.export.contract_frames`; they are written with the
contract's own writer (:func:`training.contract.write_table`) into a scratch directory, read back
with its own loader (:func:`training.contract.load_dataset`), and only then moved into ``DIR``, so
a directory ``iprisk train --data DIR`` reads is never half written.  Mounted by :mod:`service.cli`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

export_app = typer.Typer(help="Export the service's data: the training data contract.", no_args_is_help=True)


def _echo(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


SHOWN = 5
"""Loans left out that are named one by one (the rest are counted)."""


def _report_skipped(skipped: dict[str, str]) -> None:
    for loan_id, why in list(skipped.items())[:SHOWN]:
        _echo(f"left out loan {loan_id}: its stored assessment no longer validates: {why}")
    if len(skipped) > SHOWN:
        _echo(f"... and {len(skipped) - SHOWN} more loans left out")


def _typed(frame: Any, name: str) -> Any:
    """The frame with the contract's columns (an empty table gets them) and whole numbers kept whole."""
    import pandas as pd

    from training.contract import TABLES

    table = TABLES[name]
    if frame.empty:
        frame = frame.reindex(columns=table.column_names)
    frame = frame.copy()
    for c in table.columns:
        if c.kind == "int":
            frame[c.name] = pd.array(frame[c.name], dtype="Int64")
    return frame


def _write(frames: dict[str, Any], directory: Path, fmt: str) -> None:
    """Write, validate against the contract, then move the files into ``directory``."""
    from training.contract import ContractError, find_table_file, load_dataset, write_table

    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".export-") as scratch:
        tmp = Path(scratch)
        for name, frame in frames.items():
            write_table(_typed(frame, name), tmp, name, fmt=fmt)
        try:
            load_dataset(tmp, tables=tuple(frames))
        except ContractError as exc:
            first = exc.report.problems[0]
            more = len(exc.report.problems) - 1
            raise _fail(f"the export breaks the data contract: {first}" + (f" (+{more} more)" if more else "")) from exc
        for name in frames:
            stale = find_table_file(directory, name)
            if stale is not None and stale.suffix != f".{fmt}":
                stale.unlink()  # the loader would read the other format first
            shutil.move(str(tmp / f"{name}.{fmt}"), directory / f"{name}.{fmt}")


@export_app.command("contract")
def contract(
    directory: Annotated[Path, typer.Argument(help="Directory to write <table>.csv (or .parquet) into.")],
    institution: Annotated[
        str | None, typer.Option(help="Export the loans this bank booked (the bank's own data set).")
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Export every institution's loans (the regulator's).")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Write every data-contract table from the database: booked loans, borrowers, patents, pledges, outcomes."""
    from sqlmodel import Session

    from service.db.engine import make_engine
    from service.db.migrate import upgrade
    from service.settings import Settings
    from service.usecases.export import TABLES, audit_export, booked_count, contract_frames

    if fmt not in ("csv", "parquet"):
        raise _fail(f"--format must be csv or parquet, not {fmt!r}")
    if (institution is None) == (not everyone):
        raise _fail("say whose loans: --institution BANK, or --all for every institution's")
    if directory.exists() and not directory.is_dir():
        raise _fail(f"{directory} exists and is not a directory")
    from sqlalchemy.exc import OperationalError

    settings = Settings()
    engine = make_engine(settings.db_url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            if not booked_count(session, institution):
                raise _fail(f"no booked loans {'of ' + institution if institution else 'at all'}: nothing to export")
            export = contract_frames(session, institution=institution, progress=_echo)
            _echo(f"writing {', '.join(TABLES)} as {fmt} and checking them against the data contract")
            _report_skipped(export.skipped)
            if export.frames["loans"].empty:
                first = next(iter(export.skipped.items()))
                raise _fail(
                    f"every booked loan was left out ({len(export.skipped)}; the first, {first[0]}: {first[1]})"
                )
            _write(export.frames, directory, fmt)
            audit_export(
                session,
                actor=settings.actor,
                institution=institution,
                directory=str(directory.resolve()),
                fmt=fmt,
                export=export,
            )
            session.commit()
    except OperationalError as exc:
        raise _fail(f"the database cannot be read: {' '.join(str(exc.orig).split())}") from exc
    finally:
        engine.dispose()
    summary = {
        "directory": str(directory),
        "institution": institution or "all",
        "format": fmt,
        "rows": export.counts(),
        "loans_without_outcome": export.loans_without_outcome,
        "patents_from_current_facts": export.patents_from_current_facts,
        "loans_skipped": len(export.skipped),
        "skipped_examples": dict(list(export.skipped.items())[:SHOWN]),
    }
    typer.echo(json.dumps(summary))
