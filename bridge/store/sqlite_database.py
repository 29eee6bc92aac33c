"""The SQLite adapter (aiosqlite) behind `bridge.store.database.Database`.

Imports aiosqlite and sqlite3 only for this. One connection per process, used by one coroutine
at a time (a statement from another coroutine must not land inside an open transaction); WAL
mode and a busy timeout let the `rpcbridge users` CLI write while a sidecar reads.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import aiosqlite

from bridge.store.database import Row
from bridge.store.interfaces import StoreUnavailable

MEMORY: Final = ":memory:"
_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND: Final = datetime.timedelta(microseconds=1)
_PLACEHOLDER: Final = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=256)
def sqlite_sql(sql: str) -> str:
    """Rewrite `$1`-style placeholders to SQLite's equivalent numbered `?1` form."""
    return _PLACEHOLDER.sub(r"?\1", sql)


def _unavailable(exc: BaseException) -> StoreUnavailable:
    """The store error for a driver failure; SQLite messages carry no secrets."""
    return StoreUnavailable(f"SQLite: {type(exc).__name__}: {exc}")


class SqliteSession:
    """Statements on the process's SQLite connection."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; return the number of rows it changed."""
        try:
            async with self._connection.execute(sqlite_sql(sql), args) as cursor:
                return cursor.rowcount
        except sqlite3.Error as exc:
            raise _unavailable(exc) from exc

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of arguments."""
        try:
            await self._connection.executemany(sqlite_sql(sql), rows)
        except sqlite3.Error as exc:
            raise _unavailable(exc) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Run a query and return every row."""
        try:
            # One trip to aiosqlite's thread (execute, fetch and close there), not three.
            rows = await self._connection.execute_fetchall(sqlite_sql(sql), args)
        except sqlite3.Error as exc:
            raise _unavailable(exc) from exc
        return [dict(row) for row in rows]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        """Run a query and return its first row, or None."""
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None


class SqliteDatabase:
    """A SQLite file (or ":memory:") opened for the stores."""

    dialect: Final = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str, busy_timeout: float = 10.0) -> SqliteDatabase:
        """Open (creating the file and its directory if needed) with WAL and a busy timeout."""
        try:
            if path != MEMORY:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise _unavailable(exc) from exc
        try:
            await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if path != MEMORY:
                await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            connection.row_factory = sqlite3.Row
        except sqlite3.Error as exc:
            await connection.close()
            raise _unavailable(exc) from exc
        return cls(connection)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SqliteSession]:
        """Exclusive use of the connection, each statement committing on its own."""
        async with self._lock:
            yield SqliteSession(self._connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteSession]:
        """A write transaction; IMMEDIATE takes the write lock up front, so it cannot deadlock later."""
        async with self._lock:
            await self._control("BEGIN IMMEDIATE")
            try:
                yield SqliteSession(self._connection)
                await self._control("COMMIT")
            except BaseException:
                # A failed COMMIT (SQLITE_BUSY) leaves the transaction open, so it is rolled back too.
                await self._rollback()
                raise

    async def _control(self, statement: str) -> None:
        """Run BEGIN or COMMIT in one trip to aiosqlite's thread."""
        try:
            await self._connection.execute_fetchall(statement)
        except sqlite3.Error as exc:
            raise _unavailable(exc) from exc

    async def _rollback(self) -> None:
        """Roll back, tolerating a transaction SQLite has already ended itself."""
        if self._connection.in_transaction:
            try:
                await self._connection.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise _unavailable(exc) from exc

    def encode_time(self, moment: datetime.datetime) -> int:
        """Integer microseconds since the epoch: exact, and ordered like the times."""
        return (moment - _EPOCH) // _MICROSECOND

    def decode_time(self, raw: Any) -> datetime.datetime:
        """The UTC datetime for integer microseconds since the epoch."""
        return _EPOCH + datetime.timedelta(microseconds=int(raw))

    async def close(self) -> None:
        """Close the connection."""
        async with self._lock:
            await self._connection.close()
