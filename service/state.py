"""What the running application holds, built once at start-up and read through one typed accessor.

``create_app``'s lifespan builds an :class:`AppState` and stores it as
``app.state.iprisk``; dependencies (``service.deps``) and anything else that
needs a piece of it call :func:`app_state`.  Nothing else reads ``app.state``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from models_store import ModelStore
from service.audit_checkpoints import AuditKeeper
from service.auth import KeyCache
from service.bundle import BundleHolder
from service.clock import Clock
from service.configuration import Configuration
from service.db.engine import WalCheckpointer
from service.metrics import Metrics
from service.monitor import DriftMonitor
from service.settings import Settings

_KEY = "iprisk"


@dataclass(frozen=True)
class AppState:
    """The service's long-lived parts; each is built once, in ``create_app``'s lifespan."""

    settings: Settings
    clock: Clock
    engine: Engine
    models: BundleHolder  # the served models and the configuration served with them
    metrics: Metrics
    key_cache: KeyCache
    monitor: DriftMonitor
    audit: AuditKeeper
    checkpointer: WalCheckpointer | None  # SQLite only

    @property
    def configuration(self) -> Configuration:
        """The configuration in force (reloaded with the models)."""
        configuration = self.models.configuration
        assert configuration is not None, "the lifespan loads the configuration before serving"
        return configuration

    @property
    def store(self) -> ModelStore:
        """The model store the service reads."""
        return self.models.store


def set_app_state(app: Starlette, state: AppState) -> None:
    """Keep ``state`` on ``app`` (the lifespan does, once)."""
    setattr(app.state, _KEY, state)


def app_state(app: Starlette) -> AppState:
    """The application's state; ``RuntimeError`` before start-up has built it."""
    state = getattr(app.state, _KEY, None)
    if not isinstance(state, AppState):
        raise RuntimeError("the application has not started: use it inside its lifespan (TestClient as a context)")
    return state
