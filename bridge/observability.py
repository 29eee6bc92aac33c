"""Logging, configured in exactly one place: each process calls `configure_logging` once at start.

Owns the two line formats (text, json), `LogLine`, the structured message of the per-call line,
and `LabelledChildren`, the per-call way to a labelled metric. Imports the standard library and orjson only.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

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


class _SecondCache:
    """`Formatter.formatTime`'s default text, its strftime done once per second, not per line."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def format_time(self, formatter: logging.Formatter, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._text = time.strftime(formatter.default_time_format, formatter.converter(record.created))
            self._second = second
        return f"{self._text},{int(record.msecs):03d}"  # the default_msec_format, "%s,%03d"


class TextFormatter(logging.Formatter):
    """`time level role logger message`, the message kept on one line whatever it holds."""

    def __init__(self, role: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {role} %(name)s %(message)s")
        self._clock = _SecondCache()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The default time text, cached per second (a line per call makes strftime a hot path)."""
        return self._clock.format_time(self, record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line, with control characters in the message escaped."""
        record.message = one_line(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, role, logger, message, and a `LogLine`'s fields."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self._role = role
        self._clock = _SecondCache()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The default time text, cached per second."""
        return self._clock.format_time(self, record)

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
    # Neither format shows the source line, thread or process, so no record looks them up: the
    # optimisation the logging HOWTO names (https://docs.python.org/3/howto/logging.html#optimization).
    logging._srcfile = None  # the HOWTO's documented switch
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


_Child = TypeVar("_Child", covariant=True)


class _Labelled(Protocol[_Child]):
    def labels(self, *values: str) -> _Child: ...


class LabelledChildren(Generic[_Child]):
    """A labelled metric's children, each looked up once: `labels()` validates and locks per use.

    Holds only the children the metric itself keeps, one per label tuple seen.
    """

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: _Labelled[_Child]) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], _Child] = {}

    def __call__(self, *values: str) -> _Child:
        """The child for these label values."""
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child
