"""The FastAPI application factory: everything is built in the lifespan, nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from functools import partial
from typing import Protocol

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.audit_checkpoints import audit_keeper
from service.auth import KeyCache
from service.bundle import BundleHolder
from service.clock import Clock
from service.configuration import load_configuration
from service.console import mount as mount_console
from service.db.audit import ensure_head
from service.db.engine import WalCheckpointer, make_engine
from service.db.limits import DbLimits
from service.db.migrate import upgrade
from service.errors import install_error_handlers
from service.headers import SecurityHeaders
from service.limits import BodyLimit, RateLimit
from service.logging import configure_logging
from service.metrics import Metrics, MetricsMiddleware
from service.monitor import DriftMonitor
from service.patent_ids import PatentIds
from service.periodic import Periodic
from service.routes import (
    assessments,
    banks,
    disposals,
    events,
    funds,
    health,
    insurance,
    loans,
    outcomes,
    pledges,
    regulator,
    repayments,
    subsidies,
    transactions,
    valuations,
    watch,
)
from service.settings import Settings
from service.signing_key import served_store
from service.state import AppState, set_app_state
from service.text_guard import TextGuard
from service.usecases import revaluation
from service.usecases.idempotency import purge_expired

IDEMPOTENCY_PURGE_SECONDS = 3600.0
ROUTERS = (
    health.router,
    valuations.router,
    assessments.router,
    insurance.router,
    loans.router,
    pledges.router,
    outcomes.router,
    regulator.router,
    funds.router,
    subsidies.router,
    repayments.router,
    banks.router,
    transactions.router,
    events.router,
    watch.router,
    disposals.router,
)


class _Background(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


def _started(stack: ExitStack, part: _Background) -> None:
    """Start ``part`` and have ``stack`` stop it (in the reverse order of starting)."""
    part.start()
    stack.callback(part.stop)


def _database(settings: Settings, stack: ExitStack) -> Engine:
    """The engine, migrated to the latest schema with the audit chain's head in place."""
    engine = make_engine(settings.db_url, limits=DbLimits.from_settings(settings))
    stack.callback(engine.dispose)
    upgrade(engine)
    with Session(engine) as session:
        ensure_head(session)
        session.commit()
    return engine


def start(settings: Settings, *, clock: Clock, metrics: Metrics, key_cache: KeyCache, stack: ExitStack) -> AppState:
    """Build and start every long-lived part once; ``stack`` stops them (also when start-up fails midway)."""
    configuration = load_configuration(settings.config_dir)  # a broken file stops start-up here
    engine = _database(settings, stack)
    store, no_key = served_store(settings)  # the key that signs models, held outside the store
    holder = BundleHolder(
        store,
        no_key_reason=no_key,
        interval=settings.reload_interval_seconds,
        on_swap=metrics.set_bundle,
        configuration=configuration,
        load_configuration=lambda: load_configuration(settings.config_dir),
        clock=clock,
    )
    _started(stack, holder)
    monitor = DriftMonitor(
        engine,
        holder,
        metrics,
        clock=clock,
        interval=settings.drift_interval_seconds,
        window_days=settings.drift_window_days,
    )
    _started(stack, monitor)
    checkpointer = None
    if engine.dialect.name == "sqlite":
        checkpointer = WalCheckpointer(engine, interval=settings.sqlite_checkpoint_interval_seconds)
        _started(stack, checkpointer)
    audit = audit_keeper(engine, settings, clock=clock)  # seals and anchors the audit log (docs/audit.md)
    _started(stack, audit)
    _started(stack, Periodic(lambda: purge_expired(engine), IDEMPOTENCY_PURGE_SECONDS, "idempotency-purge"))
    if settings.revalue_interval_seconds > 0:  # the collateral watch of the whole book (docs/after-booking.md)
        job = partial(revaluation.scheduled_revaluation, engine, holder, metrics, settings, clock)
        _started(stack, Periodic(job, settings.revalue_interval_seconds, "book-revaluation"))
    _started(
        stack,
        Periodic(partial(revaluation.refresh_gauges, engine, metrics), revaluation.ALERT_GAUGE_SECONDS, "alert-gauges"),
    )
    return AppState(settings, clock, engine, holder, metrics, key_cache, monitor, audit, checkpointer)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the iprisk API for ``settings`` (default: from the environment) telling the time by ``clock``."""
    settings = settings or Settings()
    clock = clock or Clock()
    metrics = Metrics()
    key_cache = KeyCache()  # shared with the rate limit, which buckets by the keys it knows

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        settings.home.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            set_app_state(app, start(settings, clock=clock, metrics=metrics, key_cache=key_cache, stack=stack))
            yield

    app = FastAPI(
        title="iprisk",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from local files by the console (service/console): nothing from a CDN
        redoc_url=None,
        description="Risk engine for patent-pledge financing. Every number comes with its reasons "
        "(SHAP) and the model version that produced it. Authenticate with "
        "`Authorization: Bearer <API key>`.",
    )
    # inside the metrics, so its 422s are counted and logged; batch items fail one by one
    # Outermost last. Inside the metrics, so refusals are counted and logged; the rate and body
    # limits before the text guard, which buffers the body, and before authentication and parsing.
    app.add_middleware(PatentIds, mode=settings.patent_ids)  # the mode request schemas parse patent ids under
    app.add_middleware(TextGuard, per_item={f"{assessments.router.prefix}/batch": "items"})
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds)
    app.add_middleware(
        RateLimit, per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst, keys=key_cache
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_console(app)
    return app
