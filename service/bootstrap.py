"""First start on an empty store: generate the bundled portfolio, train, register, promote.

This is the one place where the service calls into ``training`` (the
dependency graph otherwise keeps them apart): a newcomer's first
``iprisk serve`` must produce servable models with nothing else installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from models_store import ModelStore
from service.settings import Settings
from service.signing_key import signing_store
from training.contract import find_table_file
from training.pipeline import MODEL_NAMES, train_models
from training.progress import steps
from training.synth.generator import GENERATOR_VERSION, generate_portfolio, write_portfolio


def stale_portfolio(data_dir: Path) -> bool:
    """The bundled synthetic portfolio in ``data_dir`` was made by an older generator (e.g. without disposals)."""
    readme = data_dir / "README.md"
    if not readme.exists() or "SYNTHETIC DATA" not in (text := readme.read_text(encoding="utf-8")):
        return False  # a bank's own data: never replaced
    return f"generator_version: {GENERATOR_VERSION}\n" not in text


def missing_champions(store: ModelStore) -> list[str]:
    """Bundled models that have no champion yet."""
    return [m for m in MODEL_NAMES if store.alias(m, "champion") is None]


def ensure_models(settings: Settings, *, progress: Callable[[str], None] = print) -> list[str]:
    """Make sure every bundled model has a champion; return the models trained.

    Reuses the generated portfolio and any existing versions, so a second
    start does nothing but check. Versions are signed with the configured key; when
    none is configured, the key file is created (only when something is trained).
    """
    store = ModelStore(settings.store_path)
    store.cleanup_temp()
    missing = missing_champions(store)
    if not missing:
        return []
    store = signing_store(settings, create_key=True, echo=progress)
    t0 = time.perf_counter()
    data_dir = settings.data_path
    generate = find_table_file(data_dir, "loans") is None or stale_portfolio(data_dir)
    # One step per model (and one for the data): a bar on a terminal, a line with the time left in a log.
    with steps("bootstrap", len(missing) + generate, progress) as bar:
        if generate:
            progress(f"generating the bundled SYNTHETIC portfolio ({settings.bootstrap_loans} loans) in {data_dir}")
            frames = generate_portfolio(n_loans=settings.bootstrap_loans, seed=settings.bootstrap_seed)
            data_dir.mkdir(parents=True, exist_ok=True)
            write_portfolio(frames, data_dir)
            bar.advance(f"portfolio generated ({settings.bootstrap_loans} loans)")

        def relay(line: str) -> None:
            progress(line)
            name = line.split(" ", 1)[0]
            if name in missing and line.startswith(f"{name} version "):  # train_models' line for a finished model
                bar.advance(f"{name} trained")

        train_models(
            data_dir, store, models=missing, actor="bootstrap", report_dir=settings.reports_path, progress=relay
        )
    for name in missing:
        if store.alias(name, "champion") is None:
            version = store.alias(name, "challenger")
            if version is not None:
                store.promote(name, version, actor="bootstrap", reason="bootstrap: no champion existed")
    progress(f"bootstrap finished in {time.perf_counter() - t0:.1f} s")
    return missing
