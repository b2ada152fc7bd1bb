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

The configuration (``service.configuration``) is served with the models: read
again whenever the store changes, so a policy edited with a model promotion
takes effect with it.  A configuration that no longer loads is refused like a
model (``refused["configuration"]``) and the previous one keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models_store import ModelStore, StoreError, VersionData
from scoring.confidence_texts import ConfidenceReason, load_confidence_texts, recorded_reasons
from scoring.models import LoadedModel, load_model
from scoring.vocab.lang import Lang
from service.clock import Clock
from service.configuration import Configuration
from service.model_probe import probe
from service.periodic import Periodic

log = logging.getLogger("iprisk.models")
SERVED = ("valuation", "pd", "lgd", "claim_review")
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

    def confidence_reasons(self, *names: str) -> list[ConfidenceReason]:
        """Why the models ``names`` are low-confidence (recorded at registration), language-neutral."""
        return [
            reason
            for n in names
            for reason in recorded_reasons((self.get(n).manifest.get("extra") or {}).get("confidence") or {}, model=n)
        ]

    def confidence(self, *names: str, lang: Lang = "en") -> dict[str, Any]:
        """``low_confidence`` and its reasons in ``lang`` for an answer from the models ``names``."""
        reasons = load_confidence_texts().texts(self.confidence_reasons(*names), lang)
        return {"low_confidence": bool(reasons), "low_confidence_reasons": reasons}

    def shap_kernel(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Model → booster role → whether the exact SHAP kernels explain it, and why (else pred_contrib).

        ``kernel``: the table kernel (batches, and single rows when the edge
        kernel does not serve); ``row_kernel``: the single-row edge kernel,
        gated on its own.
        """
        return {
            name: {
                role: {
                    "kernel": g.supported,
                    "reason": g.reason,
                    "max_abs_diff": g.max_abs_diff,
                    "row_kernel": g.row_kernel,
                    "row_reason": g.row_reason,
                    "row_max_abs_diff": g.row_max_abs_diff,
                }
                for role, g in model.shap_gates().items()
            }
            for name, model in self.models.items()
        }


def load_champion(store: ModelStore, name: str) -> LoadedModel:
    """Load the champion of ``name`` after the store verified it (and its signature, when it has a key)."""
    return load_model(*store.read_version(*store.resolve(f"{name}@champion")))


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
    no_key_reason: str | None = None  # why the store has no key (default NO_KEY)
    probe_timeout: float = 120.0  # seconds a child process may take to load the candidates
    refused: dict[str, str] = field(default_factory=dict)  # "name:version" -> why, for the current store state
    configuration: Configuration | None = None  # loaded at start-up by the caller; reloaded with the models
    load_configuration: Callable[[], Configuration] | None = None
    clock: Clock = field(default_factory=Clock)
    _seen_token: str | None = None
    _poller: Periodic | None = None

    def refresh(self) -> bool:
        """Reload if the store changed; return True when a new bundle was swapped in."""
        token = self.store.state_token()
        if token == self._seen_token:
            return False
        current = self.bundle.models if self.bundle else {}
        refused: dict[str, str] = {}
        if self._seen_token is not None:  # the first load is the caller's, at start-up
            self._reconfigure(refused)
        wanted: dict[str, str] = {}  # model -> champion version not served yet
        for name in SERVED:
            try:
                version = self.store.alias(name, "champion")
            except StoreError as exc:
                refused[f"{name}@champion"] = _reason(exc)
                continue
            if version is not None and (name not in current or current[name].version != version):
                wanted[name] = version
        models = {**current, **self._load_many(wanted, refused)}
        for name in wanted.keys() - models.keys():  # refused and nothing serving: fall back
            earlier = self._latest_earlier(name, refused)
            if earlier is not None:
                models[name] = earlier
        self._seen_token = token
        self.refused = refused
        self.last_error = self._describe(refused, models)
        if self.bundle is not None and all(models.get(n) is current.get(n) for n in SERVED):
            return False
        self.bundle = ModelBundle(models, token, self.clock.now())
        if self.on_swap is not None:
            self.on_swap(self.bundle)
        log.info("models served: %s", self.bundle.versions)
        return True

    def _reconfigure(self, refused: dict[str, str]) -> None:
        """Read the configuration again; keep the one serving (and say why) if it no longer loads."""
        if self.load_configuration is None:
            return
        try:
            self.configuration = self.load_configuration()
        except Exception as exc:  # noqa: BLE001 - a broken file must not stop the service serving
            refused["configuration"] = _reason(exc)
            log.error("configuration refused, the previous one keeps serving: %s", refused["configuration"])

    def _latest_earlier(self, name: str, refused: dict[str, str]) -> LoadedModel | None:
        """The most recent earlier champion of ``name`` that passes every check."""
        if not self.store.has_signing_key:
            return None
        try:
            earlier = self.store.previous_champions(name)
        except StoreError as exc:
            refused[f"{name}@history"] = _reason(exc)
            return None
        for version in earlier:
            loaded = self._load_many({name: version}, refused)
            if name in loaded:
                log.warning("serving %s:%s, the latest earlier champion that passes its checks", name, version)
                return loaded[name]
        return None

    def _load_many(self, wanted: dict[str, str], refused: dict[str, str]) -> dict[str, LoadedModel]:
        """Verify, probe in a child process, then load each ``name: version``; record refusals."""
        if not wanted:
            return {}
        if not self.store.has_signing_key:
            refused.update({f"{n}:{v}": self.no_key_reason or NO_KEY for n, v in wanted.items()})
            return {}
        candidates: dict[str, tuple[str, VersionData]] = {}
        for name, version in wanted.items():
            try:
                candidates[f"{name}:{version}"] = (name, self.store.read_version(name, version))
            except Exception as exc:  # noqa: BLE001 - a store, I/O or signature failure refuses this version only
                refused[f"{name}:{version}"] = _reason(exc)
        try:
            failed = probe({ref: c for ref, (_, c) in candidates.items()}, timeout=self.probe_timeout)
        except Exception as exc:  # noqa: BLE001 - no child process: refuse rather than risk this one
            failed = {ref: f"could not be checked in a child process: {_reason(exc)}" for ref in candidates}
        loaded: dict[str, LoadedModel] = {}
        for ref, (name, (manifest, files)) in candidates.items():
            if ref in failed:
                refused[ref] = failed[ref]
                continue
            try:
                model = load_model(manifest, files)
            except Exception as exc:  # noqa: BLE001 - whatever fails here refuses the version, not the process
                refused[ref] = _reason(exc)
                continue
            loaded[name] = model
        for name, version in wanted.items():
            if (why := refused.get(f"{name}:{version}")) is not None:
                log.error("model %s:%s refused: %s", name, version, why)
        return loaded

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
