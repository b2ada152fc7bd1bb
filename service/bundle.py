"""The served models: champions loaded once per version, swapped in without a restart.

A background thread polls the store's alias state every
``reload_interval_seconds``.  When an alias moves, the new champions are
loaded and verified off the request path, then swapped in with one reference
assignment: requests in flight finish on the bundle they started with, new
requests get the new one, and none fails.  A version that fails verification
is refused and whatever was serving keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from models_store import ModelStore, StoreError
from scoring.models import LoadedModel, load_model
from service.periodic import Periodic

log = logging.getLogger("iprisk.models")
SERVED = ("valuation", "pd", "claim_review")


@dataclass(frozen=True)
class ModelBundle:
    """The champions serving requests right now."""

    models: dict[str, LoadedModel]
    token: str
    loaded_at: datetime

    def get(self, name: str) -> LoadedModel:
        """The champion ``name``; KeyError if none is loaded."""
        return self.models[name]

    @property
    def versions(self) -> dict[str, str]:
        """Model name → version served."""
        return {n: m.version for n, m in self.models.items()}


def load_champion(store: ModelStore, name: str) -> LoadedModel:
    """Load and verify the champion of ``name``."""
    name, version = store.resolve(f"{name}@champion")
    manifest = store.verify(name, version)
    files = {f: store.read_file(name, version, f) for f in manifest.files}
    return load_model(manifest.model_dump(mode="json"), files)


@dataclass
class BundleHolder:
    """Holds the current bundle and keeps it in step with the store."""

    store: ModelStore
    interval: float = 1.0
    bundle: ModelBundle | None = None
    last_error: str | None = None
    on_swap: Callable[[ModelBundle], None] | None = None
    prepare: Callable[[LoadedModel], None] | None = None  # run on each newly loaded model before it serves
    _failed_token: str | None = None
    _poller: Periodic | None = None

    def refresh(self) -> bool:
        """Reload if the store changed; return True when a new bundle was swapped in."""
        token = self.store.state_token()
        if (self.bundle is not None and token == self.bundle.token) or token == self._failed_token:
            return False
        current = self.bundle.models if self.bundle else {}
        models = dict(current)
        try:
            for name in SERVED:
                version = self.store.alias(name, "champion")
                if version is None:
                    continue
                if name in current and current[name].version == version:
                    continue
                models[name] = load_champion(self.store, name)
                if self.prepare is not None:
                    self.prepare(models[name])
        except (StoreError, OSError, ValueError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._failed_token = token
            log.error("model reload refused, keeping the served versions: %s", self.last_error)
            return False
        self.bundle = ModelBundle(models, token, datetime.now(UTC))
        self.last_error = None
        self._failed_token = None
        if self.on_swap is not None:
            self.on_swap(self.bundle)
        log.info("models served: %s", self.bundle.versions)
        return True

    def start(self) -> None:
        """Load now and start polling in the background."""
        self.refresh()
        self._poller = Periodic(self.refresh, self.interval, "model-reload")
        self._poller.start()

    def stop(self) -> None:
        """Stop polling."""
        if self._poller is not None:
            self._poller.stop()
