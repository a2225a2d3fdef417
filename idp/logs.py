"""Structured logging: one JSON object per line (or plain text on a terminal).

Records carry an event name and a few non-personal fields; nothing here ever receives a
password, a code, a ticket or a name. ``audit(event, **fields)`` is the one way to write an
audit event.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

AUDIT = logging.getLogger("educonnect.audit")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _RESERVED)
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line} {extra}" if extra else line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(level: str = "INFO", fmt: str = "json", stream=None) -> None:
    """Install the handler on the ``educonnect`` logger tree (idempotent)."""
    root = logging.getLogger("educonnect")
    root.setLevel(level)
    root.propagate = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.handlers[:] = [handler]


def audit(event: str, **fields) -> None:
    """Write an audit event (login, notification, activation, administration...)."""
    AUDIT.info(event, extra={"event": event, **fields})
