"""``iprisk watch``: import legal-status events in bulk, revalue the book, export disposal outcomes.

Mounted by :mod:`service.cli`; every command opens the database of the
settings (migrated first) and, where it marks patents, the champion valuation
model of the store, as the service would serve it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # imported by the commands: mounting them must not slow every other command down
    from sqlmodel import Session

    from service.settings import Settings

watch_app = typer.Typer(help="After booking: legal events, book revaluation, disposal outcomes.", no_args_is_help=True)
CLI_KEY_ID = 0
"""The key id the command line acts under in the audit log (no API key is used)."""


@contextmanager
def _session() -> Iterator[Session]:
    from sqlmodel import Session

    from service.db.engine import make_engine
    from service.db.migrate import upgrade
    from service.settings import Settings

    engine = make_engine(Settings().db_url)
    upgrade(engine)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _context(settings: Settings) -> Any:
    from service.bundle import load_champion
    from service.configuration import load_configuration
    from service.signing_key import signing_store
    from service.usecases.watch import watch_context

    model = load_champion(signing_store(settings), "valuation")
    return watch_context(model, load_configuration(settings.config_dir).scoring, settings)


def _today() -> Any:
    from service.clock import Clock, business_today

    return business_today(Clock().now())


def _records(path: Path) -> list[dict[str, Any]]:
    """The records of a CSV (one event per row, the event's fields as columns) or JSON file (a list or JSON lines)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        return list(csv.DictReader(text.splitlines()))
    stripped = text.strip()
    if stripped.startswith("["):
        loaded = json.loads(stripped)
        return [dict(r) for r in loaded]
    return [json.loads(line) for line in stripped.splitlines() if line.strip()]


@watch_app.command("import-events")
def import_events(
    path: Annotated[Path, typer.Argument(help="CSV or JSON (list or lines): event_id, patent_id, type, on, ...")],
    institution: Annotated[str, typer.Option(help="The sender, recorded as a data feed.")] = "cnipa_feed",
) -> None:
    """Record legal-status events in bulk, each once by its event id; refused records are listed, the rest kept."""
    from tqdm import tqdm

    from scoring.legal_events import EventRefused
    from service.auth import Principal
    from service.errors import ServiceError
    from service.settings import Settings
    from service.usecases import events, watch

    settings = Settings()
    ctx, today = _context(settings), _today()
    feed = Principal(key_id=CLI_KEY_ID, role="data_feed", institution=institution)
    recorded, refused = 0, []
    with _session() as session:
        for i, raw in enumerate(tqdm(_records(path), desc="events", unit="event")):
            try:
                pid, req = events.parse_event(raw)
                with session.begin_nested():  # a refused record writes nothing; the others stay
                    watch.record_event(session, feed, ctx, pid, req, today=today, now=datetime_now())
                recorded += 1
            except (EventRefused, ServiceError) as exc:
                field = exc.field
                refused.append({"record": str(i + 1), "field": str(field or ""), "problem": str(exc)})
        session.commit()
    typer.echo(json.dumps({"recorded": recorded, "refused": refused}, ensure_ascii=False))
    if refused:
        raise typer.Exit(1)


def datetime_now() -> Any:
    """The command's instant, UTC."""
    from service.clock import Clock

    return Clock().now()


@watch_app.command("revalue")
def revalue() -> None:
    """Revalue every live loan's collateral today with the champion valuation model; store marks and alerts."""
    from tqdm import tqdm

    from service.settings import Settings
    from service.usecases.revaluation import revalue_book

    settings = Settings()
    try:
        ctx = _context(settings)
    except (LookupError, ValueError) as exc:
        typer.echo(f"no champion valuation model: {exc}", err=True)
        raise typer.Exit(1) from exc
    with _session() as session:
        with tqdm(desc="patents", unit="patent") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            summary = revalue_book(session, ctx, today=_today(), progress=progress)
        session.commit()
    typer.echo(summary.model_dump_json())


@watch_app.command("export-outcomes")
def export_outcomes(
    path: Annotated[Path, typer.Argument(help="CSV to write: the data contract's outcomes columns.")],
) -> None:
    """Write every closed disposal's outcome (EAD, channel, rounds, dates, costs, recovery, realised LGD) as CSV."""
    from service.usecases.disposal_outcomes import OUTCOME_COLUMNS, outcome_rows

    with _session() as session:
        rows = outcome_rows(session)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=OUTCOME_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    typer.echo(json.dumps({"written": len(rows), "path": str(path)}))
