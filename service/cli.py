"""The ``iprisk`` command line: serve, bootstrap, keys and audit here; data, train, predict and models from training.

The model commands live in :mod:`training.cli`; they are mounted here and read the
settings through the :class:`~training.cli.Workspace` that :func:`_workspace` builds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.export_cli import export_app
from service.watch_cli import watch_app
from training.cli import Workspace, set_debug, user_errors
from training.cli import app as model_commands
from training.cli import echo as _echo
from training.cli import fail as _fail

if TYPE_CHECKING:
    from models_store import ModelStore
    from service.audit_checkpoints import AuditKeeper
    from service.db_location import DbLocation
    from service.settings import Settings

# Every import a command needs is inside it: `iprisk --help` and `iprisk keys create` load only typer,
# core SQLAlchemy and the few modules of their path (tests/service/test_key_path.py).


def _settings() -> Settings:
    from service.settings import Settings

    return Settings()


def _key_settings() -> DbLocation:
    """Where the database is, for the key commands: without pydantic-settings (see service.db_location)."""
    from service.db_location import DbLocation

    try:
        return DbLocation.from_env()
    except ValueError as exc:
        raise _fail(f"error: {exc}", 2) from exc


def _store(settings: Settings, *, create_key: bool = False) -> ModelStore:
    """The store opened with the model signing key (created first if ``create_key`` and none exists)."""
    from service.signing_key import signing_store

    try:
        return signing_store(settings, create_key=create_key, echo=_echo)
    except ValueError as exc:
        raise _fail(str(exc)) from exc


def _workspace() -> Workspace:
    """What the model commands of :mod:`training.cli` read: the settings of the command being run."""
    settings = _settings()

    def open_store(*, create_key: bool = False) -> ModelStore:
        return _store(settings, create_key=create_key)

    return Workspace(
        actor=settings.actor, data_path=settings.data_path, reports_path=settings.reports_path, open_store=open_store
    )


app = typer.Typer(
    help="iprisk: risk engine for patent-pledge financing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"obj": _workspace},  # read by the mounted model commands
)


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error, not only its line.")] = False,
) -> None:
    """iprisk: risk engine for patent-pledge financing."""
    set_debug(debug)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Bootstrap models if the store is empty, then serve the API."""
    from service.server import run_server, server_config

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    prepare_serving(settings, host=host, port=port)
    run_server(server_config(settings, "service.app:create_app", factory=True, host=host, port=port, workers=workers))


def prepare_serving(settings: Settings, *, host: str, port: int) -> None:
    """What ``serve`` does before serving: bootstrap missing models; the demo key only after a demo bootstrap."""
    from service.bootstrap import ensure_models
    from service.keys import ensure_demo_key

    settings.home.mkdir(parents=True, exist_ok=True)
    trained = ensure_models(settings, progress=_echo)
    ensure_demo_key(settings, bootstrapped=bool(trained), host=host, port=port, echo=_echo)


@app.command()
def bootstrap() -> None:
    """Generate the bundled portfolio and train any model without a champion (no serving)."""
    from service.bootstrap import ensure_models

    trained = ensure_models(_settings(), progress=_echo)
    _echo("nothing to do: every model has a champion" if not trained else f"trained {', '.join(trained)}")


app.add_typer(model_commands)  # no name: train, predict, data and models join the top level
app.add_typer(watch_app, name="watch")  # after booking: events, book revaluation, disposal outcomes
app.add_typer(export_app, name="export")  # the service database as a data set of the training contract


def main() -> None:
    """Console-script entry point."""
    app()


keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="bank, insurer, fund_manager, regulator, data_team or data_feed.")],
    institution: Annotated[str, typer.Option(help="Institution id (bank, fund, insurer...).")],
    label: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Create a key and print it once."""
    from service.keys import new_key

    settings = _key_settings()
    try:
        with user_errors():
            settings.home.mkdir(parents=True, exist_ok=True)
            plain, row = new_key(settings, role=role, institution=institution, label=label)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(f"key id {row.id} ({row.role} @ {row.institution}) — store it now, it is not shown again:")
    typer.echo(plain)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="Key id (see keys list).")]) -> None:
    """Revoke a key: it stops working at once."""
    from service.keys import revoke

    try:
        row = revoke(_key_settings(), key_id)
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"key {row.id} revoked at {row.revoked_at}")


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, prefix, role, institution, status."""
    from service.keys import list_keys

    for k in list_keys(_key_settings()):
        status = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        typer.echo(f"{k.id}\t{k.prefix}…\t{k.role}\t{k.institution}\t{status}\t{k.label}")


audit_app = typer.Typer(help="Seal, anchor and verify the audit log (docs/audit.md).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _keeper() -> AuditKeeper:
    from service.audit_checkpoints import audit_keeper
    from service.db.engine import make_engine
    from service.db.migrate import upgrade

    settings = _settings()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    return audit_keeper(engine, settings)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Seal pending entries and write a signed checkpoint of the chain head now."""
    from service.audit_checkpoints import AuditBroken

    keeper = _keeper()
    try:
        cp = keeper.checkpoint(force=True)
    except AuditBroken as exc:
        raise _fail(f"not anchored: the chain does not verify ({exc})") from exc
    finally:
        keeper.engine.dispose()
    typer.echo(json.dumps(cp.__dict__) if cp else "the log is empty: nothing to anchor")


@audit_app.command("verify")
def audit_verify() -> None:
    """Seal, recompute the chain and check it against the signed checkpoints; exit 1 if not ok."""
    from sqlmodel import Session

    keeper = _keeper()
    try:
        with Session(keeper.engine) as session:
            verdict = keeper.verify(session)
    finally:
        keeper.engine.dispose()
    typer.echo(
        json.dumps(
            {
                "ok": verdict.ok,
                "entries": verdict.chain.entries,
                "pending": verdict.chain.pending,
                "checkpoints": len(verdict.checkpoints.valid),
                "problem": verdict.problem,
            }
        )
    )
    if not verdict.ok:
        raise typer.Exit(1)


funds_app = typer.Typer(
    help="Fund administration through a running service (a fund-manager key).", no_args_is_help=True
)
rules_app = typer.Typer(help="A fund's rule versions.", no_args_is_help=True)
funds_app.add_typer(rules_app, name="rules")
app.add_typer(funds_app, name="funds")


@rules_app.command("upload")
def rules_upload(
    fund: Annotated[str, typer.Argument(help="Fund id.")],
    file: Annotated[Path, typer.Argument(help="Rule version, YAML or JSON (scoring/config/funds/*.yaml).")],
    url: Annotated[str, typer.Option(envvar="IPRISK_URL", help="The service's address.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str, typer.Option(envvar="IPRISK_API_KEY", help="A fund-manager (or regulator) key.")] = "",
    effective_from: Annotated[
        str | None, typer.Option("--from", help="First day in force (YYYY-MM-DD), instead of the file's.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why, when the version takes effect in the past.")] = None,
) -> None:
    """Add a rule version to a fund from a YAML or JSON file (the body of POST /v1/funds/{fund}/rules)."""
    from service.client import ApiError, ClientError, IpriskClient

    with user_errors():
        body = _rule_file(file)
    if effective_from is not None:
        body["effective_from"] = effective_from
    if reason is not None:
        body["reason"] = reason
    if not api_key:
        raise _fail("error: no API key: pass --api-key or set IPRISK_API_KEY", 2)
    try:
        with IpriskClient(url, api_key=api_key) as client:
            version = client.add_rule_version(fund, body)
    except ApiError as exc:
        field = f" (field {exc.field})" if exc.field else ""
        raise _fail(f"error: {file}: refused by the service: {exc.status} {exc.detail}{field}", 2) from exc
    except ClientError as exc:
        raise _fail(f"error: cannot reach the service at {url}: {exc}") from exc
    typer.echo(f"fund {version.fund_id}: rule version {version.version} in force from {version.effective_from}")


def _rule_file(path: Path) -> dict[str, Any]:
    """A rule version read from YAML or JSON (JSON is YAML too); dates as ISO text, as the API takes them."""
    import yaml

    from training.tabular import TableError

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        raise TableError(f"not valid YAML or JSON: {' '.join(str(exc).split())}", path=path) from exc
    if not isinstance(raw, dict) or "rules" not in raw:
        raise TableError("expected a mapping with 'effective_from' and 'rules' (see docs/funds.md)", path=path)
    result: dict[str, Any] = json.loads(json.dumps(raw, default=str))
    return result
