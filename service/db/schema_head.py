"""Is a database's schema current?  Answered without importing Alembic or any migration.

Every command used to run Alembic's ``upgrade heads`` first: importing Alembic and
every migration module costs a command that only creates a key more than the
rest of its work.  The heads are read here from the text of the migration files
(their ``revision`` and ``down_revision`` lines); a database whose
``alembic_version`` holds exactly those heads, and whose audit head row exists,
needs nothing, and anything else goes through :func:`service.db.migrate.upgrade`
under its lock.  A test compares :func:`script_heads` with Alembic's own.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine

from service.db.core_tables import AUDIT_HEAD

VERSIONS = Path(__file__).parent / "migrations" / "versions"
# ``revision: str = "0002_funds"`` and ``down_revision: str | Sequence[str] | None = ("a", "b")``.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.MULTILINE)


@cache
def script_heads(versions: Path = VERSIONS) -> frozenset[str]:
    """The revisions of the migration scripts that no other script revises (Alembic's heads)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        found = {m[1]: m[2] for m in _ASSIGNMENT.finditer(path.read_text(encoding="utf-8"))}
        if "revision" not in found:
            continue  # __init__.py
        revisions.add(str(ast.literal_eval(found["revision"])))
        down = ast.literal_eval(found.get("down_revision", "None"))
        revised.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - revised)


def is_current(conn: Connection) -> bool:
    """Whether the database is at the scripts' heads and has its audit head row (nothing to migrate or seed)."""
    if not inspect(conn).has_table("alembic_version"):
        return False
    stamped = {str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()}
    if stamped != script_heads():
        return False
    return conn.execute(select(AUDIT_HEAD.c.id).where(AUDIT_HEAD.c.id == 1)).first() is not None


def ensure_current(engine: Engine) -> None:
    """Migrate and seed the database unless it is current already (then Alembic is never imported)."""
    with engine.connect() as conn:
        if is_current(conn):
            return
    from service.db.migrate import upgrade

    upgrade(engine)
