"""The model commands of ``iprisk``: ``data``, ``train``, ``predict`` and ``models``.

``service/cli.py`` mounts :data:`app` into the ``iprisk`` command and hands over, as
the click context's ``obj``, a function returning a :class:`Workspace`: where data,
models and reports live and who acts.  So training knows nothing of the service's
settings or of where the model signing key comes from.  Heavy modules (pandas,
LightGBM) are imported inside the commands, so ``iprisk --help`` stays quick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import typer

from models_store import ModelStore, StoreError

if TYPE_CHECKING:
    from training.fit import Fitted
    from training.prepare import Prepared

app = typer.Typer(no_args_is_help=True)
data_app = typer.Typer(help="Generate or check data sets.", no_args_is_help=True)
models_app = typer.Typer(help="Inspect and move model versions.", no_args_is_help=True)


class StoreOpener(Protocol):
    """Opens the model store with the signing key (``create_key``: create the key first if there is none)."""

    def __call__(self, *, create_key: bool = False) -> ModelStore: ...


@dataclass(frozen=True)
class Workspace:
    """What the model commands need from the program that mounts them, read when a command runs."""

    actor: str  # who the commands act as in model history
    data_path: Path  # the bundled portfolio: default test data of the gates
    reports_path: Path  # training reports go under reports_path/name/version
    open_store: StoreOpener


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red on stderr; return the exit to raise."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def echo(message: str) -> None:
    """Progress and notices go to stderr, results to stdout."""
    typer.echo(message, err=True)


def _workspace(ctx: typer.Context) -> Workspace:
    make = ctx.obj
    if not callable(make):
        raise RuntimeError("the model commands need a Workspace factory as the context obj (see service/cli.py)")
    workspace = make()
    if not isinstance(workspace, Workspace):
        raise TypeError(f"the context obj made a {type(workspace).__name__}, not a Workspace")
    return workspace


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
        raise fail("--format must be csv or parquet", 2)
    t0 = time.perf_counter()
    echo(f"generating {loans} loans (seed {seed})")
    frames = generate_portfolio(n_loans=loans, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    write_portfolio(frames, out, fmt=fmt)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in frames.items())
    echo(f"wrote {out} in {time.perf_counter() - t0:.1f} s: {sizes}")


@data_app.command("validate")
def data_validate(directory: Path) -> None:
    """Check a data directory against the contract; list every problem."""
    from training.contract import ContractError, load_dataset

    try:
        frames = load_dataset(directory)
    except ContractError as exc:
        raise fail(str(exc)) from exc
    typer.echo("valid: " + ", ".join(f"{k} {len(v)} rows" for k, v in frames.items()))


@app.command()
def train(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option(help="Data directory (contract) or CSV file (generic).")],
    model: Annotated[str, typer.Option(help="valuation, pd, claim_review or all.")] = "all",
    task: Annotated[str | None, typer.Option(help="Generic task: binary or regression.")] = None,
    target: Annotated[str | None, typer.Option(help="Generic: target column.")] = None,
    name: Annotated[str | None, typer.Option(help="Generic: model name to register.")] = None,
    spec: Annotated[Path | None, typer.Option(help="Generic: column spec (YAML).")] = None,
) -> None:
    """Train, evaluate, report and register models."""
    from training.contract import ContractError

    workspace = _workspace(ctx)
    try:
        if task is not None:
            _train_generic(workspace, data, task, target, name, spec)
            return
        from training.pipeline import MODEL_NAMES, train_models

        models = MODEL_NAMES if model == "all" else (model,)
        if any(m not in MODEL_NAMES for m in models):
            raise fail(f"--model must be one of {', '.join(MODEL_NAMES)} or all", 2)
        results = train_models(
            data,
            workspace.open_store(create_key=True),
            models=models,
            actor=workspace.actor,
            report_dir=workspace.reports_path,
            progress=echo,
        )
    except ContractError as exc:
        raise fail(f"refused: nothing was trained.\n{exc}") from exc
    for r in results:
        state = "champion (first version)" if r.promoted else "challenger"
        typer.echo(f"{r.name}:{r.version} registered as {state}; report {r.report}")


def _train_generic(
    workspace: Workspace, data: Path, task: str, target: str | None, name: str | None, spec: Path | None
) -> None:
    import pandas as pd

    from training.generic import GenericDataError, load_spec, train_generic

    if task not in ("binary", "regression") or not target or not name:
        raise fail("generic training needs --task binary|regression, --target COLUMN and --name NAME", 2)
    kind: Literal["binary", "regression"] = "binary" if task == "binary" else "regression"
    try:
        fitted, metrics, prep = train_generic(pd.read_csv(data), task=kind, target=target, spec=load_spec(spec))
    except GenericDataError as exc:
        raise fail(f"refused: nothing was trained. {exc}") from exc
    store = workspace.open_store(create_key=True)
    version, report = _register_generic(store, workspace, data, name, fitted, metrics, prep)
    if store.alias(name, "champion") is None:
        store.promote(name, version, actor=workspace.actor, reason="first version of this model")
    else:
        store.set_alias(name, "challenger", version, actor=workspace.actor, reason="newly trained")
    typer.echo(f"{name}:{version} registered; metrics {json.dumps(metrics)}; report {report}")


def _register_generic(
    store: ModelStore,
    workspace: Workspace,
    data: Path,
    name: str,
    fitted: Fitted,
    metrics: dict[str, Any],
    prep: Prepared,
) -> tuple[str, Path]:
    """Register a generic fit and write its report; return the version and the report's path."""
    from training.registry import data_fingerprint_file, register_fit
    from training.report import build_plots, write_report

    version = register_fit(
        store,
        name,
        fitted,
        metrics=metrics,
        fingerprint=data_fingerprint_file(data),
        actor=workspace.actor,
        synthetic=False,
    )
    report = write_report(
        workspace.reports_path / name / version,
        name=name,
        version=version,
        metrics=metrics,
        plots=build_plots(fitted.as_loaded(name, version), prep, metrics),
        synthetic=False,
    )
    return version, report


@app.command()
def predict(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="NAME, NAME@ALIAS or NAME:VERSION.")],
    data: Annotated[Path, typer.Option(help="Data directory or CSV.")],
    out: Annotated[Path, typer.Option(help="Output CSV.")],
    explain: Annotated[bool, typer.Option(help="Add SHAP columns.")] = False,
) -> None:
    """Score a data set with a stored model; one output row per input.

    ``pd`` writes ``pd_12m`` and ``pd_tenor`` (cumulative over each loan's tenor), ``lgd`` writes ``lgd``.
    """
    from training.contract import ContractError
    from training.generic import GenericDataError
    from training.predict import predict as run

    try:
        frame = run(_workspace(ctx).open_store(), model, data, explain=explain)
    except (StoreError, ContractError, GenericDataError) as exc:
        raise fail(str(exc)) from exc
    frame.to_csv(out, index=False)
    typer.echo(f"wrote {len(frame)} rows to {out}")


@models_app.command("list")
def models_list(ctx: typer.Context) -> None:
    """Every model, its versions and aliases."""
    store = _workspace(ctx).open_store()
    for name in store.names():
        aliases = store.aliases(name)
        for m in store.versions(name):
            tags = ",".join(a for a, v in aliases.items() if v == m.version)
            typer.echo(f"{name}:{m.version}\t{m.created_at}\t{m.task}\t{tags}")


@models_app.command("show")
def models_show(ctx: typer.Context, ref: str) -> None:
    """The manifest of one version (verified)."""
    store = _workspace(ctx).open_store()
    try:
        name, version = store.resolve(ref)
        typer.echo(store.verify(name, version).model_dump_json(indent=2))
    except StoreError as exc:
        raise fail(str(exc)) from exc


@models_app.command("promote")
def models_promote(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION or NAME@challenger.")],
    data: Annotated[Path | None, typer.Option(help="Test data for the gates.")] = None,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    force: Annotated[bool, typer.Option(help="Promote even if gates fail (needs --reason).")] = False,
) -> None:
    """Promote a version to champion if it passes its gates against the champion."""
    from training.promotion import PromotionRefused, promote

    workspace = _workspace(ctx)
    store = workspace.open_store()
    try:
        name, version = store.resolve(ref)
        if data is None and workspace.data_path.exists() and name in ("valuation", "pd", "claim_review"):
            data = workspace.data_path
        result = promote(store, name, version, actor=workspace.actor, reason=reason, data_dir=data, force=force)
    except PromotionRefused as exc:
        raise fail(f"promotion refused:\n{exc.result}") from exc
    except (StoreError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if result is not None:
        typer.echo(str(result))
    typer.echo(f"{name}:{version} is champion")


@models_app.command("sign")
def models_sign(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="NAME:VERSION (or NAME@ALIAS), one or more.")],
) -> None:
    """Sign versions with the model signing key after checking their files (migration, key rotation).

    Signing vouches for a version: check what it is first (models show, history). Signing
    again with a new key replaces the old signature.
    """
    workspace = _workspace(ctx)
    store = workspace.open_store(create_key=True)
    for ref in refs:
        try:
            name, version = store.resolve(ref)
            signature = store.sign(name, version, actor=workspace.actor)
        except StoreError as exc:
            raise fail(f"{ref}: not signed: {exc}") from exc
        typer.echo(f"{name}:{version} signed (key id {signature.key_id})")


@models_app.command("rollback")
def models_rollback(ctx: typer.Context, name: str, reason: Annotated[str, typer.Option(help="Why.")]) -> None:
    """Move champion back to the previous champion."""
    workspace = _workspace(ctx)
    try:
        ev = workspace.open_store().rollback(name, actor=workspace.actor, reason=reason)
    except StoreError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"{name}: champion {ev.from_version} -> {ev.to_version}")


@models_app.command("history")
def models_history(
    ctx: typer.Context,
    name: str,
    on: Annotated[str | None, typer.Option(help="ISO date-time: who was champion then.")] = None,
) -> None:
    """Every alias move of a model, or the champion at one instant."""
    store = _workspace(ctx).open_store()
    if on is not None:
        when = datetime.fromisoformat(on)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        typer.echo(f"{name} champion on {when.isoformat()}: {store.champion_on(name, when)}")
        return
    for ev in store.history(name):
        forced = " FORCED" if ev.forced else ""
        typer.echo(f"{ev.at}\t{ev.alias}\t{ev.from_version} -> {ev.to_version}\t{ev.actor}\t{ev.reason}{forced}")


app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")
