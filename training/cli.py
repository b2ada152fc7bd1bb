"""The model commands of ``iprisk``: ``data``, ``train``, ``predict`` and ``models``.

``service/cli.py`` mounts :data:`app` into the ``iprisk`` command and hands over, as
the click context's ``obj``, a function returning a :class:`Workspace`: where data,
models and reports live and who acts.  So training knows nothing of the service's
settings or of where the model signing key comes from.  Heavy modules (pandas,
LightGBM) are imported inside the commands, so ``iprisk --help`` stays quick.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import typer

if TYPE_CHECKING:
    from models_store import ModelStore
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


_DEBUG = {"on": False}


def set_debug(on: bool) -> None:
    """``--debug``: errors print their traceback too (set by the root command of ``iprisk``)."""
    _DEBUG["on"] = on


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red on stderr (with the traceback under ``--debug``); return the exit to raise."""
    if _DEBUG["on"] and sys.exc_info()[0] is not None:
        traceback.print_exc()
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@contextmanager
def user_errors(prefix: str = "error: ") -> Iterator[None]:
    """Turn what a user's input can cause into one red line and exit code 2, never a traceback.

    Missing or unreadable files, data errors naming row and column, unknown model
    names or versions, bad dates and spec keys.  ``iprisk --debug`` shows the traceback.
    """
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, _user_error_types()):
            raise
        raise fail(f"{prefix}{_one_line(exc)}", 2) from exc


def _user_error_types() -> tuple[type[Exception], ...]:
    """The errors a user's input causes; a module not imported yet raised none (keeps pandas out of ``keys``)."""
    from models_store import StoreError
    from training.tabular import TableError

    types: list[type[Exception]] = [TableError, StoreError, OSError]
    contract = sys.modules.get("training.contract")
    if contract is not None:
        types.append(contract.ContractError)
    return tuple(types)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or 'cannot be read'}"
    return str(exc) or type(exc).__name__


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

    from training.synth.generator import GENERATION_WORK, generate_portfolio, write_portfolio

    if fmt not in ("csv", "parquet"):
        raise fail("--format must be csv or parquet", 2)
    from training.progress import steps

    t0 = time.perf_counter()
    echo(f"generating {loans} loans (seed {seed})")
    stage = iter(GENERATION_WORK)
    with steps("generate", len(GENERATION_WORK), echo, total_work=sum(GENERATION_WORK)) as bar:
        frames = generate_portfolio(
            n_loans=loans, seed=seed, progress=lambda note: bar.advance(note, work=next(stage, 0))
        )
    out.mkdir(parents=True, exist_ok=True)
    # The time left of the writing is estimated by rows: a table of 50,000 rows takes 100 times one of 500.
    rows = sum(len(f) for f in frames.values())
    with steps(f"write {fmt}", len(frames), echo, total_work=rows) as bar:
        write_portfolio(frames, out, fmt=fmt, progress=lambda note, n: bar.advance(note, work=n))
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


FormatOpt = Annotated[str | None, typer.Option("--format", help="File kind: csv, xlsx or parquet (default: detected).")]
EncodingOpt = Annotated[str | None, typer.Option(help="CSV text encoding, e.g. utf-8, gbk (default: detected).")]
SepOpt = Annotated[str | None, typer.Option("--sep", help="CSV separator: , ; or tab (default: detected).")]


@dataclass(frozen=True)
class FileOptions:
    """How to read a generic file: each ``None`` is detected."""

    kind: str | None = None
    encoding: str | None = None
    separator: str | None = None

    def read(self, path: Path) -> tuple[Any, Any]:
        """The frame and the :class:`~training.tabular.TableFormat` used; reported on stderr."""
        from training.tabular import FILE_KINDS, TableError, read_table

        if self.kind is not None and self.kind not in FILE_KINDS:
            raise TableError(f"--format must be one of {', '.join(FILE_KINDS)}", path=path)
        sep = "\t" if self.separator in ("tab", "\\t") else self.separator
        kind = next((k for k in FILE_KINDS if k == self.kind), None)
        frame, fmt = read_table(path, kind=kind, encoding=self.encoding, separator=sep)
        echo(f"read {path}: {fmt.describe()}, {len(frame)} rows, {len(frame.columns)} columns")
        return frame, fmt


@app.command()
def train(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option(help="Data directory (contract), or a CSV/XLSX/Parquet file (generic).")],
    model: Annotated[str, typer.Option(help="valuation, pd, claim_review or all.")] = "all",
    task: Annotated[str | None, typer.Option(help="Generic task: binary or regression.")] = None,
    target: Annotated[str | None, typer.Option(help="Generic: target column.")] = None,
    name: Annotated[str | None, typer.Option(help="Generic: model name to register.")] = None,
    spec: Annotated[Path | None, typer.Option(help="Generic: column spec (YAML, see README).")] = None,
    positive_label: Annotated[
        str | None, typer.Option(help="Generic binary: the target value the model gives the probability of.")
    ] = None,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    sep: SepOpt = None,
) -> None:
    """Train, evaluate, report and register models."""
    workspace = _workspace(ctx)
    if task is not None:
        with user_errors("refused: nothing was trained. "):
            _train_generic(
                workspace,
                data,
                GenericRequest(task, target, name, spec, positive_label),
                FileOptions(fmt, encoding, sep),
            )
        return
    from training.pipeline import MODEL_NAMES, train_models

    models = MODEL_NAMES if model == "all" else (model,)
    if any(m not in MODEL_NAMES for m in models):
        raise fail(f"--model must be one of {', '.join(MODEL_NAMES)} or all (or --task for a generic file)", 2)
    from training.progress import steps

    with user_errors("refused: nothing was trained.\n"), steps("train", len(models), echo) as bar:

        def relay(line: str) -> None:
            echo(line)
            name = line.split(" ", 1)[0]
            if name in models and line.startswith(f"{name} version "):  # train_models' line for a finished model
                bar.advance(f"{name} trained")

        results = train_models(
            data,
            workspace.open_store(create_key=True),
            models=models,
            actor=workspace.actor,
            report_dir=workspace.reports_path,
            progress=relay,
        )
    for r in results:
        state = "champion (first version)" if r.promoted else "challenger"
        typer.echo(f"{r.name}:{r.version} registered as {state}; report {r.report}")


@dataclass(frozen=True)
class GenericRequest:
    """The generic-training options of ``train``."""

    task: str
    target: str | None
    name: str | None
    spec: Path | None
    positive_label: str | None


def _train_generic(workspace: Workspace, data: Path, req: GenericRequest, files: FileOptions) -> None:
    from training.generic import load_spec, train_generic

    if req.task not in ("binary", "regression") or not req.target or not req.name:
        raise fail("generic training needs --task binary|regression, --target COLUMN and --name NAME", 2)
    kind: Literal["binary", "regression"] = "binary" if req.task == "binary" else "regression"
    spec = load_spec(req.spec)
    if req.positive_label is not None:
        spec = spec.model_copy(update={"positive_label": req.positive_label})
    frame, table_format = files.read(data)
    try:
        fitted, metrics, prep = train_generic(frame, task=kind, target=req.target, spec=spec, progress=echo)
    except ValueError as exc:  # a TableError without the file: say which file
        from training.tabular import TableError

        if isinstance(exc, TableError) and exc.path is None:
            raise TableError(str(exc), path=data) from exc
        raise
    fitted.extra["data_file"] = str(data.resolve())
    fitted.extra["data_format"] = {
        "kind": table_format.kind,
        "encoding": table_format.encoding,
        "separator": table_format.separator,
    }
    store = workspace.open_store(create_key=True)
    version, report = _register_generic(store, workspace, data, req.name, fitted, metrics, prep)
    if store.alias(req.name, "champion") is None:
        store.promote(req.name, version, actor=workspace.actor, reason="first version of this model")
    else:
        store.set_alias(req.name, "challenger", version, actor=workspace.actor, reason="newly trained")
    from training.confidence import assess_confidence

    confidence = assess_confidence(req.name, metrics)
    if confidence["low_confidence"]:
        echo(f"LOW CONFIDENCE: {'; '.join(confidence['reasons'])} (recorded in the manifest)")
    typer.echo(f"{req.name}:{version} registered; metrics {json.dumps(metrics, default=float)}; report {report}")


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
    from training.confidence import assess_confidence
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
        summary={**fitted.extra, "confidence": assess_confidence(name, metrics)},
    )
    return version, report


@app.command()
def predict(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="NAME, NAME@ALIAS or NAME:VERSION.")],
    data: Annotated[Path, typer.Option(help="Data directory, or a CSV/XLSX/Parquet file (generic models).")],
    out: Annotated[Path, typer.Option(help="Output CSV.")],
    explain: Annotated[bool, typer.Option(help="Add SHAP columns.")] = False,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    sep: SepOpt = None,
) -> None:
    """Score a data set with a stored model; one output row per input.

    ``pd`` writes ``pd_12m`` and ``pd_tenor`` (cumulative over each loan's tenor), ``lgd`` writes ``lgd``.
    """
    from training.predict import predict as run

    with user_errors():
        store = _workspace(ctx).open_store()
        frame = run(store, model, data, explain=explain, read=FileOptions(fmt, encoding, sep).read, progress=echo)
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
    with user_errors():
        name, version = store.resolve(ref)
        typer.echo(store.verify(name, version).model_dump_json(indent=2))


@models_app.command("promote")
def models_promote(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION or NAME@challenger.")],
    data: Annotated[
        Path | None,
        typer.Option(help="Test data for the gates (default: the bundled portfolio, or a model's training file)."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    force: Annotated[
        bool, typer.Option(help="Promote even if gates or the target/positive label check fail (needs --reason).")
    ] = False,
) -> None:
    """Promote a version to champion if it predicts the same thing as the champion and passes its gates."""
    from training.promotion import PromotionRefused, promote

    workspace = _workspace(ctx)
    store = workspace.open_store()
    with user_errors():
        name, version = store.resolve(ref)
        if data is None:
            data = _default_test_data(store, workspace, name, version)
        try:
            result = promote(store, name, version, actor=workspace.actor, reason=reason, data_dir=data, force=force)
        except PromotionRefused as exc:
            raise fail(f"promotion refused:\n{exc.result}") from exc
        except ValueError as exc:
            raise fail(str(exc)) from exc
    if result is not None:
        typer.echo(str(result))
    typer.echo(f"{name}:{version} is champion")


def _default_test_data(store: ModelStore, workspace: Workspace, name: str, version: str) -> Path | None:
    """The bundled portfolio for bundled models; a generic model's own training file while it is still there."""
    if name in ("valuation", "pd", "claim_review"):
        return workspace.data_path if workspace.data_path.exists() else None
    data_file = store.manifest(name, version).extra.get("data_file")
    if not data_file:
        return None
    path = Path(data_file)
    if not path.exists():
        echo(f"the training file {path} of {name}:{version} is gone: pass --data FILE")
        return None
    echo(f"gates on the training file of {name}:{version}: {path} (its held-out test split)")
    return path


@models_app.command("sign")
def models_sign(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="NAME:VERSION (or NAME@ALIAS), one or more.")],
) -> None:
    """Sign versions with the model signing key after checking their files (migration, key rotation).

    Signing vouches for a version: check what it is first (models show, history). Signing
    again with a new key replaces the old signature.
    """
    from models_store import StoreError

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
    with user_errors():
        ev = workspace.open_store().rollback(name, actor=workspace.actor, reason=reason)
    typer.echo(f"{name}: champion {ev.from_version} -> {ev.to_version}")


@models_app.command("history")
def models_history(
    ctx: typer.Context,
    name: str,
    on: Annotated[str | None, typer.Option(help="ISO date-time: who was champion then.")] = None,
) -> None:
    """Every alias move of a model, or the champion at one instant."""
    store = _workspace(ctx).open_store()
    if name not in store.names():
        raise fail(f"error: no model named {name!r} (models: {', '.join(store.names()) or 'none'})", 2)
    if on is not None:
        try:
            when = datetime.fromisoformat(on)
        except ValueError as exc:
            raise fail(
                f"error: --on {on!r} is not an ISO date or date-time (e.g. 2026-03-31 or 2026-03-31T12:00)", 2
            ) from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        typer.echo(f"{name} champion on {when.isoformat()}: {store.champion_on(name, when)}")
        return
    for ev in store.history(name):
        forced = " FORCED" if ev.forced else ""
        typer.echo(f"{ev.at}\t{ev.alias}\t{ev.from_version} -> {ev.to_version}\t{ev.actor}\t{ev.reason}{forced}")


app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")
