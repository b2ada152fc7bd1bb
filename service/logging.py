"""Structured JSON logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TextIO


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (JSON messages merged)."""

    def format(self, record: logging.LogRecord) -> str:
        base = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
        }
        msg = record.getMessage()
        try:
            parsed = json.loads(msg)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            base.update(parsed)
        else:
            base["message"] = msg
        if record.exc_info:
            base["exc"] = self.formatException(record.exc_info)
        return json.dumps(base, ensure_ascii=False)


class _Handler(logging.StreamHandler[TextIO]):
    """The handler :func:`configure_logging` adds (so a second call adds none)."""


def configure_logging(level: str) -> None:
    """Send iprisk's logs to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("iprisk")
    logger.setLevel(level.upper())
    if not any(isinstance(h, _Handler) for h in logger.handlers):
        handler = _Handler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
