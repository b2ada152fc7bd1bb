"""Structured JSON logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


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


def configure_logging(level: str) -> None:
    """Send iprisk's logs to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("iprisk")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_iprisk", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler._iprisk = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
