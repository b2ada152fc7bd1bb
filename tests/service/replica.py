"""What a replica's start-up does to the database, for tests that start replicas in other processes.

A module of its own, importing only the database layer: a spawned process
imports the module of its target, and the test modules import the whole
service (LightGBM, SHAP, FastAPI), which cost each replica about 5 s of start-up.
"""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

from sqlmodel import Session

from service.db.audit import ensure_head
from service.db.engine import make_engine
from service.db.migrate import upgrade


def replica_start(url: str, barrier: Barrier) -> None:
    """Migrate and create the audit head as service.app's lifespan does, after every replica is ready."""
    engine = make_engine(url)
    barrier.wait(timeout=60)
    upgrade(engine)
    with Session(engine) as session:
        ensure_head(session)
        session.commit()
    engine.dispose()
