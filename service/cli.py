"""The ``iprisk`` command line: serve, data, train, predict, models, keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from models_store import ModelStore, StoreError
from service.settings import Settings

if TYPE_CHECKING:
    from service.audit_checkpoints import AuditKeeper

app = typer.Typer(
    help="iprisk: risk engine for patent-pledge financing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Generate or check data sets.", no_args_is_help=True)
models_app = typer.Typer(help="Inspect and move model versions.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")


def _settings() -> Settings:
    return Settings()


def _store(settings: Settings | None = None, *, create_key: bool = False) -> ModelStore:
    """The store opened with the model signing key (created first if ``create_key`` and none exists)."""
    from service.signing_key import signing_store

    try:
        return signing_store(settings or _settings(), create_key=create_key, echo=_echo)
    except ValueError as exc:
        raise _fail(str(exc)) from exc


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _echo(message: str) -> None:
    typer.echo(message, err=True)


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


@data_app.command("generate")
def data_generate(
    loans: Annotated[int, typer.Option(min=10, help="Number of loans.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 1,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("data"),
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Generate a SYNTHETIC portfolio with ground truth."""
    import time

    from training.synth.generator import generate_portfolio, write_portfolio

    if fmt not in ("csv", "parquet"):
        raise _fail("--format must be csv or parquet", 2)
    t0 = time.perf_counter()
    _echo(f"generating {loans} loans (seed {seed})")
    frames = generate_portfolio(n_loans=loans, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    write_portfolio(frames, out, fmt=fmt)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in frames.items())
    _echo(f"wrote {out} in {time.perf_counter() - t0:.1f} s: {sizes}")


@data_app.command("validate")
def data_validate(directory: Path) -> None:
    """Check a data directory against the contract; list every problem."""
    from training.contract import ContractError, load_dataset

    try:
        frames = load_dataset(directory)
    except ContractError as exc:
        raise _fail(str(exc)) from exc
    typer.echo("valid: " + ", ".join(f"{k} {len(v)} rows" for k, v in frames.items()))


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Data directory (contract) or CSV file (generic).")],
    model: Annotated[str, typer.Option(help="valuation, pd, claim_review or all.")] = "all",
    task: Annotated[str | None, typer.Option(help="Generic task: binary or regression.")] = None,
    target: Annotated[str | None, typer.Option(help="Generic: target column.")] = None,
    name: Annotated[str | None, typer.Option(help="Generic: model name to register.")] = None,
    spec: Annotated[Path | None, typer.Option(help="Generic: column spec (YAML).")] = None,
) -> None:
    """Train, evaluate, report and register models."""
    from training.contract import ContractError

    settings = _settings()
    try:
        if task is not None:
            _train_generic(settings, data, task, target, name, spec)
            return
        from training.pipeline import MODEL_NAMES, train_models

        models = MODEL_NAMES if model == "all" else (model,)
        if any(m not in MODEL_NAMES for m in models):
            raise _fail(f"--model must be one of {', '.join(MODEL_NAMES)} or all", 2)
        results = train_models(
            data,
            _store(settings, create_key=True),
            models=models,
            actor=settings.actor,
            report_dir=settings.reports_path,
            progress=_echo,
        )
    except ContractError as exc:
        raise _fail(f"refused: nothing was trained.\n{exc}") from exc
    for r in results:
        state = "champion (first version)" if r.promoted else "challenger"
        typer.echo(f"{r.name}:{r.version} registered as {state}; report {r.report}")


def _train_generic(
    settings: Settings, data: Path, task: str, target: str | None, name: str | None, spec: Path | None
) -> None:
    import pandas as pd

    from training.generic import GenericDataError, load_spec, train_generic
    from training.registry import data_fingerprint_file, register_fit
    from training.report import build_plots, write_report

    if task not in ("binary", "regression") or not target or not name:
        raise _fail("generic training needs --task binary|regression, --target COLUMN and --name NAME", 2)
    kind: Literal["binary", "regression"] = "binary" if task == "binary" else "regression"
    try:
        fitted, metrics, prep = train_generic(pd.read_csv(data), task=kind, target=target, spec=load_spec(spec))
    except GenericDataError as exc:
        raise _fail(f"refused: nothing was trained. {exc}") from exc
    store = _store(settings, create_key=True)
    version = register_fit(
        store,
        name,
        fitted,
        metrics=metrics,
        fingerprint=data_fingerprint_file(data),
        actor=settings.actor,
        synthetic=False,
    )
    loaded = fitted.as_loaded(name, version)
    report = write_report(
        settings.reports_path / name / version,
        name=name,
        version=version,
        metrics=metrics,
        plots=build_plots(loaded, prep, metrics),
        synthetic=False,
    )
    if store.alias(name, "champion") is None:
        store.promote(name, version, actor=settings.actor, reason="first version of this model")
    else:
        store.set_alias(name, "challenger", version, actor=settings.actor, reason="newly trained")
    typer.echo(f"{name}:{version} registered; metrics {json.dumps(metrics)}; report {report}")


@app.command()
def predict(
    model: Annotated[str, typer.Option(help="NAME, NAME@ALIAS or NAME:VERSION.")],
    data: Annotated[Path, typer.Option(help="Data directory or CSV.")],
    out: Annotated[Path, typer.Option(help="Output CSV.")],
    explain: Annotated[bool, typer.Option(help="Add SHAP columns.")] = False,
) -> None:
    """Score a data set with a stored model; one output row per input."""
    from training.contract import ContractError
    from training.generic import GenericDataError
    from training.predict import predict as run

    try:
        frame = run(_store(), model, data, explain=explain)
    except (StoreError, ContractError, GenericDataError) as exc:
        raise _fail(str(exc)) from exc
    frame.to_csv(out, index=False)
    typer.echo(f"wrote {len(frame)} rows to {out}")


@models_app.command("list")
def models_list() -> None:
    """Every model, its versions and aliases."""
    store = _store()
    for name in store.names():
        aliases = store.aliases(name)
        for m in store.versions(name):
            tags = ",".join(a for a, v in aliases.items() if v == m.version)
            typer.echo(f"{name}:{m.version}\t{m.created_at}\t{m.task}\t{tags}")


@models_app.command("show")
def models_show(ref: str) -> None:
    """The manifest of one version (verified)."""
    store = _store()
    try:
        name, version = store.resolve(ref)
        typer.echo(store.verify(name, version).model_dump_json(indent=2))
    except StoreError as exc:
        raise _fail(str(exc)) from exc


@models_app.command("promote")
def models_promote(
    ref: Annotated[str, typer.Argument(help="NAME:VERSION or NAME@challenger.")],
    data: Annotated[Path | None, typer.Option(help="Test data for the gates.")] = None,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    force: Annotated[bool, typer.Option(help="Promote even if gates fail (needs --reason).")] = False,
) -> None:
    """Promote a version to champion if it passes its gates against the champion."""
    from training.promotion import PromotionRefused, promote

    settings = _settings()
    store = _store(settings)
    try:
        name, version = store.resolve(ref)
        if data is None and settings.data_path.exists() and name in ("valuation", "pd", "claim_review"):
            data = settings.data_path
        result = promote(store, name, version, actor=settings.actor, reason=reason, data_dir=data, force=force)
    except PromotionRefused as exc:
        raise _fail(f"promotion refused:\n{exc.result}") from exc
    except (StoreError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if result is not None:
        typer.echo(str(result))
    typer.echo(f"{name}:{version} is champion")


@models_app.command("sign")
def models_sign(
    refs: Annotated[list[str], typer.Argument(help="NAME:VERSION (or NAME@ALIAS), one or more.")],
) -> None:
    """Sign versions with the model signing key after checking their files (migration, key rotation).

    Signing vouches for a version: check what it is first (models show, history). Signing
    again with a new key replaces the old signature.
    """
    settings = _settings()
    store = _store(settings, create_key=True)
    for ref in refs:
        try:
            name, version = store.resolve(ref)
            signature = store.sign(name, version, actor=settings.actor)
        except StoreError as exc:
            raise _fail(f"{ref}: not signed: {exc}") from exc
        typer.echo(f"{name}:{version} signed (key id {signature.key_id})")


@models_app.command("rollback")
def models_rollback(name: str, reason: Annotated[str, typer.Option(help="Why.")]) -> None:
    """Move champion back to the previous champion."""
    settings = _settings()
    try:
        ev = _store(settings).rollback(name, actor=settings.actor, reason=reason)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"{name}: champion {ev.from_version} -> {ev.to_version}")


@models_app.command("history")
def models_history(
    name: str,
    on: Annotated[str | None, typer.Option(help="ISO date-time: who was champion then.")] = None,
) -> None:
    """Every alias move of a model, or the champion at one instant."""
    store = _store()
    if on is not None:
        when = datetime.fromisoformat(on)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        typer.echo(f"{name} champion on {when.isoformat()}: {store.champion_on(name, when)}")
        return
    for ev in store.history(name):
        forced = " FORCED" if ev.forced else ""
        typer.echo(f"{ev.at}\t{ev.alias}\t{ev.from_version} -> {ev.to_version}\t{ev.actor}\t{ev.reason}{forced}")


def main() -> None:
    """Console-script entry point."""
    app()


keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="bank, insurer, fund_manager, regulator or data_team.")],
    institution: Annotated[str, typer.Option(help="Institution id (bank, fund, insurer...).")],
    label: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Create a key and print it once."""
    from service.keys import new_key

    try:
        plain, row = new_key(_settings(), role=role, institution=institution, label=label)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(f"key id {row.id} ({row.role} @ {row.institution}) — store it now, it is not shown again:")
    typer.echo(plain)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="Key id (see keys list).")]) -> None:
    """Revoke a key: it stops working at once."""
    from service.keys import revoke

    try:
        row = revoke(_settings(), key_id)
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"key {row.id} revoked at {row.revoked_at}")


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, prefix, role, institution, status."""
    from service.keys import list_keys

    for k in list_keys(_settings()):
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
