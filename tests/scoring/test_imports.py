"""Imports flow one way: scoring and models_store import no web framework, ORM or service code.

models_store imports neither scoring, training nor service; within service only the
command line (with the contract export, which writes and checks through training.contract)
and the first-start bootstrap import training.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "scoring": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "service", "training", "models_store"},
    "models_store": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "service", "training", "scoring"},
    "training": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "service"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_flow_one_way(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN[package]) for p in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_command_line_and_bootstrap_of_the_service_import_training() -> None:
    importers = {p.relative_to(ROOT).as_posix() for p in (ROOT / "service").rglob("*.py") if "training" in _imports(p)}
    assert importers <= {"service/cli.py", "service/bootstrap.py", "service/export_cli.py"}


def test_routes_hold_no_sql_or_models() -> None:
    for path in (ROOT / "service" / "routes").glob("*.py"):
        imported = _imports(path)
        assert not imported & {"sqlalchemy", "sqlmodel", "numpy", "lightgbm"}, path.name
