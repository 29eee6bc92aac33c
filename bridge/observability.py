"""Logging, configured in exactly one place: each process calls `configure_logging` once at start.

Owns the two line formats (text, json) and `LogLine`, the structured message of the per-call line.
Imports the standard library and orjson only.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, Final

import orjson

# A text value printed bare; anything else (spaces, `=`, quotes, control characters, non-ASCII)
# is quoted and escaped as a JSON string, so client-supplied text cannot forge a field or a line.
_BARE: Final = re.compile(r"[\w.:/@+,*?()\[\]-]+", re.ASCII)


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value if _BARE.fullmatch(value) else orjson.dumps(value).decode()
    return str(value)


def one_line(text: str) -> str:
    """`text` with its control characters escaped, so that it stays on one log line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class LogLine:
    """A structured log message: an event and its fields, rendered only if the line is written.

    As text, `event key=value ...` (values quoted when they need it); the json format writes the
    fields as members of the line's object.
    """

    __slots__ = ("event", "fields")

    def __init__(self, event: str, fields: Mapping[str, Any]) -> None:
        self.event = event
        self.fields = fields

    def __str__(self) -> str:
        return " ".join([self.event, *(f"{key}={_text_value(value)}" for key, value in self.fields.items())])


class TextFormatter(logging.Formatter):
    """`time level role logger message`, the message kept on one line whatever it holds."""

    def __init__(self, role: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {role} %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line, with control characters in the message escaped."""
        record.message = one_line(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, role, logger, message, and a `LogLine`'s fields."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self._role = role

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON object (JSON escapes every control character by construction)."""
        line: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "role": self._role,
            "logger": record.name,
        }
        if isinstance(record.msg, LogLine):
            line["message"] = record.msg.event
            line.update(record.msg.fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str, role: str, log_format: str = "text") -> None:
    """Log records to stderr at `level`, one line each, as `text` or `json`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(role) if log_format == "json" else TextFormatter(role))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
