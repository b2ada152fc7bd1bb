"""Schema migrations with Alembic, run programmatically at start-up (``upgrade heads``).

Feature branches (funds, regulator) each start from the initial revision, so
start-up applies every head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database schema to ``revision``."""
    command.upgrade(alembic_config(engine), revision)
