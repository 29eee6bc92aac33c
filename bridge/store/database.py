"""The seam between the SQL stores and a database driver: `Database` and `Session` Protocols.

Imports no driver. The stores write SQL once, with PostgreSQL's numbered placeholders (`$1`);
the SQLite adapter turns them into SQLite's own numbered form (`?1`), which means the same.
Each adapter translates its driver's exceptions into `StoreUnavailable`, at the one place it
meets them, so the stores never see a driver exception.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeAlias

Row: TypeAlias = dict[str, Any]
"""One result row, by column name."""


class Session(Protocol):
    """Statements on one connection; inside `Database.transaction()` they commit together."""

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of arguments."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Run a query and return every row."""
        ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        """Run a query and return its first row, or None."""
        ...


class Database(Protocol):
    """An open database: connections, transactions, and the dialect's time representation.

    `dialect` is "sqlite" or "postgresql"; only migrations branch on it.
    """

    @property
    def dialect(self) -> str:
        """The SQL dialect."""
        ...

    def session(self) -> AbstractAsyncContextManager[Session]:
        """Exclusive use of a connection, each statement committing on its own."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Session]:
        """A connection in a write transaction: committed on exit, rolled back on any exception."""
        ...

    def encode_time(self, moment: datetime.datetime) -> Any:
        """The column value for an aware datetime."""
        ...

    def decode_time(self, raw: Any) -> datetime.datetime:
        """The aware (UTC) datetime for a column value."""
        ...

    async def close(self) -> None:
        """Close every connection."""
        ...


def utc_now() -> datetime.datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.datetime.now(datetime.UTC)
