"""Alias table and alias-move history of one model directory (private).

``aliases.json`` holds the current alias → version map and is replaced atomically;
``history.jsonl`` holds one :class:`AliasEvent` per line and is only appended to.
Callers hold the model's lock around read-modify-write sequences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from models_store._fs import append_line, replace_file
from models_store.errors import IntegrityError
from models_store.manifest import AliasEvent, AliasName, VersionStr

ALIASES_FILENAME = "aliases.json"
HISTORY_FILENAME = "history.jsonl"

_ALIASES_ADAPTER: TypeAdapter[dict[AliasName, VersionStr]] = TypeAdapter(dict[AliasName, VersionStr])


def read_aliases(model_dir: Path) -> dict[str, str]:
    """Return the alias → version map of a model; empty if no alias was ever set."""
    path = model_dir / ALIASES_FILENAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        return {str(alias): version for alias, version in _ALIASES_ADAPTER.validate_json(raw).items()}
    except ValidationError as exc:
        raise IntegrityError(
            f"{path} is not a valid alias table: {exc.errors()[0]['msg']}", filename=ALIASES_FILENAME
        ) from exc


def write_aliases(model_dir: Path, aliases: dict[str, str]) -> None:
    """Atomically replace the alias table of a model."""
    data = json.dumps(dict(sorted(aliases.items())), indent=2) + "\n"
    replace_file(model_dir / ALIASES_FILENAME, data.encode())


def read_history(model_dir: Path) -> list[AliasEvent]:
    """Return every alias move of a model, oldest first.

    Raises
    ------
    IntegrityError
        If a line of ``history.jsonl`` is not a valid event.
    """
    path = model_dir / HISTORY_FILENAME
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(AliasEvent.model_validate_json(line))
        except ValidationError as exc:
            raise IntegrityError(f"{path} line {number} is not a valid alias event", filename=HISTORY_FILENAME) from exc
    return events


def append_event(model_dir: Path, event: AliasEvent) -> None:
    """Append one event to the history, durably."""
    append_line(model_dir / HISTORY_FILENAME, event.model_dump_json().encode() + b"\n")


def champion_stack(events: Sequence[AliasEvent]) -> list[str]:
    """Replay champion moves into the stack of versions a rollback walks back through.

    A promote or set pushes the new champion; a rollback pops the current one, so
    rolling back twice after promoting 1, 2, 3 returns to 2 and then to 1 rather
    than bouncing between 2 and 3.
    """
    stack: list[str] = []
    for event in events:
        if event.alias != "champion":
            continue
        if event.action == "rollback" and stack:
            stack.pop()
        if not stack or stack[-1] != event.to_version:
            stack.append(event.to_version)
    return stack


def champion_at(events: Sequence[AliasEvent], when: datetime) -> str | None:
    """Return the champion version at instant ``when`` (``None`` before the first)."""
    champion: str | None = None
    for event in events:
        if event.alias == "champion" and event.at <= when:
            champion = event.to_version
    return champion
