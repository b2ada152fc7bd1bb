"""The served models: champions loaded once per version, swapped in without a restart.

A background thread polls the store's alias state every
``reload_interval_seconds``.  When an alias moves, the new champions are
loaded and verified off the request path, then swapped in with one reference
assignment: requests in flight finish on the bundle they started with, new
requests get the new one, and none fails.

A version is served only if its manifest signature verifies with the signing key,
its files match the manifest and LightGBM loads it.  Any other version is refused,
each model on its own: at a reload the version already serving keeps serving; at
start (or while a model serves nothing) the server walks back through the earlier
champions to the most recent one that passes.  Refusals are named in
``last_error`` and ``refused`` (shown by ``/readyz``); nothing here ends the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from models_store import ModelStore, StoreError
from scoring.models import LoadedModel, load_model
from service.periodic import Periodic

log = logging.getLogger("iprisk.models")
SERVED = ("valuation", "pd", "claim_review")
NO_KEY = "no model signing key is configured: unsigned models are not served"
_MAX_REASON = 300


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


def load_version(store: ModelStore, name: str, version: str) -> LoadedModel:
    """Load ``name:version`` after the store verified it (signature too, when it has a key)."""
    manifest = store.verify(name, version)
    files = {f: store.read_file(name, version, f) for f in manifest.files}
    return load_model(manifest.model_dump(mode="json"), files)


def load_champion(store: ModelStore, name: str) -> LoadedModel:
    """Load and verify the champion of ``name``."""
    name, version = store.resolve(f"{name}@champion")
    return load_version(store, name, version)


class Refused(Exception):
    """A version that will not be served; the message says why."""


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON] + "…"


@dataclass
class BundleHolder:
    """Holds the current bundle and keeps it in step with the store.

    ``store`` must carry the signing key; without one every version is refused with
    ``no_key_reason``.
    """

    store: ModelStore
    interval: float = 1.0
    bundle: ModelBundle | None = None
    last_error: str | None = None
    on_swap: Callable[[ModelBundle], None] | None = None
    prepare: Callable[[LoadedModel], None] | None = None  # run on each newly loaded model before it serves
    no_key_reason: str | None = None  # why the store has no key (default NO_KEY)
    refused: dict[str, str] = field(default_factory=dict)  # "name:version" -> why, for the current store state
    _seen_token: str | None = None
    _poller: Periodic | None = None

    def refresh(self) -> bool:
        """Reload if the store changed; return True when a new bundle was swapped in."""
        token = self.store.state_token()
        if token == self._seen_token:
            return False
        current = self.bundle.models if self.bundle else {}
        refused: dict[str, str] = {}
        models = dict(current)
        for name in SERVED:
            loaded = self._champion_or_earlier(name, current.get(name), refused)
            if loaded is not None:
                models[name] = loaded
        self._seen_token = token
        self.refused = refused
        self.last_error = self._describe(refused, models)
        if self.bundle is not None and all(models.get(n) is current.get(n) for n in SERVED):
            return False
        self.bundle = ModelBundle(models, token, datetime.now(UTC))
        if self.on_swap is not None:
            self.on_swap(self.bundle)
        log.info("models served: %s", self.bundle.versions)
        return True

    def _champion_or_earlier(self, name: str, served: LoadedModel | None,
                             refused: dict[str, str]) -> LoadedModel | None:
        """The champion if it passes; else what serves now; else the latest earlier champion that passes."""
        try:
            version = self.store.alias(name, "champion")
        except StoreError as exc:
            refused[f"{name}@champion"] = _reason(exc)
            return served
        if version is None or (served is not None and served.version == version):
            return served
        try:
            return self._load(name, version)
        except Refused as exc:
            refused[f"{name}:{version}"] = str(exc)
        if served is not None or not self.store.has_signing_key:
            return served
        try:
            earlier = self.store.previous_champions(name)
        except StoreError as exc:
            refused[f"{name}@history"] = _reason(exc)
            earlier = []
        for version in earlier:
            try:
                model = self._load(name, version)
            except Refused as exc:
                refused[f"{name}:{version}"] = str(exc)
                continue
            log.warning("serving %s:%s, the latest earlier champion that verifies", name, version)
            return model
        return None

    def _load(self, name: str, version: str) -> LoadedModel:
        """Verify (signature, files) and load one version, or raise Refused."""
        if not self.store.has_signing_key:
            raise Refused(self.no_key_reason or NO_KEY)
        try:
            model = load_version(self.store, name, version)
            if self.prepare is not None:
                self.prepare(model)
        except Exception as exc:  # a bad version (store, I/O, LightGBM) must never end the process
            log.error("model %s:%s refused: %s", name, version, _reason(exc))
            raise Refused(_reason(exc)) from exc
        return model

    @staticmethod
    def _describe(refused: dict[str, str], models: dict[str, LoadedModel]) -> str | None:
        if not refused:
            return None
        serving = ", ".join(f"{n}:{m.version}" for n, m in models.items()) or "nothing"
        return "; ".join(f"{ref} refused ({why})" for ref, why in refused.items()) + f"; serving {serving}"

    def start(self) -> None:
        """Load now and start polling in the background; a failure here is reported, never raised."""
        try:
            self.refresh()
        except Exception as exc:  # the poller retries; /readyz reports it meanwhile
            self.last_error = f"model store unreadable: {_reason(exc)}"
            log.exception("model store unreadable at start")
        self._poller = Periodic(self.refresh, self.interval, "model-reload")
        self._poller.start()

    def stop(self) -> None:
        """Stop polling."""
        if self._poller is not None:
            self._poller.stop()
