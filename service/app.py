"""The FastAPI application factory: everything is built in the lifespan, nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlmodel import Session

from scoring.policy import load_scoring_config
from service.audit_checkpoints import audit_keeper
from service.auth import KeyCache
from service.bundle import BundleHolder
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
from service.periodic import Periodic
from service.routes import assessments, funds, health, insurance, loans, outcomes, regulator, valuations
from service.settings import Settings
from service.signing_key import served_store
from service.text_guard import TextGuard
from service.usecases.funds import load_fund_context
from service.usecases.idempotency import purge_expired

IDEMPOTENCY_PURGE_SECONDS = 3600.0
ROUTERS = (
    health.router,
    valuations.router,
    assessments.router,
    insurance.router,
    loans.router,
    outcomes.router,
    regulator.router,
    funds.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the iprisk API for ``settings`` (default: from the environment)."""
    settings = settings or Settings()
    metrics = Metrics()
    key_cache = KeyCache()  # shared with the rate limit, which buckets by the keys it knows

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        settings.home.mkdir(parents=True, exist_ok=True)
        app.state.scoring_config = load_scoring_config(settings.config_dir)
        app.state.funds = load_fund_context(settings.config_dir, app.state.scoring_config.reasons.claim_review)
        engine = make_engine(
            settings.db_url,
            limits=DbLimits(
                statement_timeout_ms=settings.db_statement_timeout_ms,
                lock_timeout_ms=settings.db_lock_timeout_ms,
                idle_session_timeout_ms=settings.db_idle_session_timeout_ms,
                connect_timeout_seconds=settings.db_connect_timeout_seconds,
                pool_timeout_seconds=settings.db_pool_timeout_seconds,
            ),
        )
        upgrade(engine)
        with Session(engine) as session:
            ensure_head(session)
            session.commit()
        store, no_key = served_store(settings)  # the key that signs models, held outside the store
        holder = BundleHolder(
            store,
            no_key_reason=no_key,
            interval=settings.reload_interval_seconds,
            on_swap=metrics.set_bundle,
        )
        holder.start()
        monitor = DriftMonitor(
            engine, holder, metrics, interval=settings.drift_interval_seconds, window_days=settings.drift_window_days
        )
        monitor.start()
        checkpointer = None
        if engine.dialect.name == "sqlite":
            checkpointer = WalCheckpointer(engine, interval=settings.sqlite_checkpoint_interval_seconds)
            checkpointer.start()
        app.state.checkpointer = checkpointer
        app.state.audit = audit_keeper(engine, settings)  # seals and anchors the audit log (docs/audit.md)
        app.state.audit.start()
        purger = Periodic(lambda: purge_expired(engine), IDEMPOTENCY_PURGE_SECONDS, "idempotency-purge")
        purger.start()
        app.state.monitor = monitor
        app.state.readiness_details = monitor.details
        app.state.settings = settings
        app.state.engine = engine
        app.state.models = holder
        app.state.metrics = metrics
        app.state.key_cache = key_cache
        try:
            yield
        finally:
            monitor.stop()
            holder.stop()
            if checkpointer is not None:
                checkpointer.stop()
            app.state.audit.stop()
            purger.stop()
            engine.dispose()

    app = FastAPI(
        title="iprisk",
        version="0.1.0",
        lifespan=lifespan,
        description="Risk engine for patent-pledge financing. Every number comes with its reasons "
        "(SHAP) and the model version that produced it. Authenticate with "
        "`Authorization: Bearer <API key>`.",
    )
    # inside the metrics, so its 422s are counted and logged; batch items fail one by one
    # Outermost last. Inside the metrics, so refusals are counted and logged; the rate and body
    # limits before the text guard, which buffers the body, and before authentication and parsing.
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
    return app
