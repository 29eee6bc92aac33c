"""The PostgreSQL adapter (asyncpg) behind `bridge.store.database.Database`.

Imports asyncpg only for this. A small connection pool; `$1` placeholders are asyncpg's own.
Error messages name the server by host and port only, never with the URL's password.
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

import asyncpg

from bridge.store.database import Row
from bridge.store.interfaces import StoreUnavailable

APPLICATION_NAME: Final = "rpcbridge"
# InternalClientError: what asyncpg raises when the server ends a connection mid-operation.
_DRIVER_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)
# The server ended a pooled connection (a restart, a failover, pg_terminate_backend): the pool
# replaces closed connections when they are acquired, so a read may be repeated on a fresh one.
_CONNECTION_LOST: Final = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)


def redact_url(url: str) -> str:
    """The URL without user name, password or query, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _unavailable(exc: BaseException, where: str) -> StoreUnavailable:
    """The store error for a driver failure; PostgreSQL messages carry no passwords."""
    return StoreUnavailable(f"PostgreSQL at {where}: {type(exc).__name__}: {exc}")


def _rowcount(status: str) -> int:
    """The row count at the end of a command tag such as "UPDATE 3" or "INSERT 0 1"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresSession:
    """Statements on one pooled connection.

    Args:
        pool: outside a transaction, where a read whose connection the server ended is repeated
            once on a fresh connection; None (in a transaction) never repeats anything.
    """

    def __init__(self, connection: Any, where: str, pool: Any = None) -> None:
        self._connection = connection
        self._where = where
        self._pool = pool

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; return the number of rows it changed."""
        try:
            return _rowcount(await self._connection.execute(sql, *args))
        except _DRIVER_ERRORS as exc:
            raise _unavailable(exc, self._where) from exc

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of arguments (pipelined by asyncpg)."""
        try:
            await self._connection.executemany(sql, list(rows))
        except _DRIVER_ERRORS as exc:
            raise _unavailable(exc, self._where) from exc

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Run a query and return every row."""
        return [dict(record) for record in await self._read("fetch", sql, args)]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        """Run a query and return its first row, or None."""
        record = await self._read("fetchrow", sql, args)
        return None if record is None else dict(record)

    async def _read(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        try:
            try:
                return await getattr(self._connection, method)(sql, *args)
            except _CONNECTION_LOST:
                if self._pool is None:
                    raise
            async with self._pool.acquire() as fresh:
                return await getattr(fresh, method)(sql, *args)
        except _DRIVER_ERRORS as exc:
            raise _unavailable(exc, self._where) from exc


class PostgresDatabase:
    """A PostgreSQL database reached through an asyncpg pool.

    Query parameters of the URL other than libpq's own (for example `?search_path=tenant`) are
    passed by asyncpg as server settings, which is how a schema is chosen.
    """

    dialect: Final = "postgresql"

    def __init__(self, pool: Any, where: str) -> None:
        self._pool = pool
        self._where = where

    @classmethod
    async def open(
        cls, url: str, min_size: int = 1, max_size: int = 10, connect_timeout: float = 10.0
    ) -> PostgresDatabase:
        """Open a pool; StoreUnavailable when the server cannot be reached."""
        where = redact_url(url)
        # Named so an operator can tell the bridge's sessions in pg_stat_activity; the URL's own
        # `?application_name=` wins (asyncpg lets server_settings override the URL's query).
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        named = None if "application_name" in query else {"application_name": APPLICATION_NAME}
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=min_size,
                max_size=max_size,
                timeout=connect_timeout,
                command_timeout=30.0,
                server_settings=named,
            )
        except _DRIVER_ERRORS as exc:
            raise _unavailable(exc, where) from exc
        return cls(pool, where)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[PostgresSession]:
        """A pooled connection, each statement committing on its own."""
        try:
            async with self._pool.acquire() as connection:
                yield PostgresSession(connection, self._where, self._pool)
        except _DRIVER_ERRORS as exc:
            raise _unavailable(exc, self._where) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresSession]:
        """A pooled connection in a transaction, committed on exit, rolled back on any exception."""
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                yield PostgresSession(connection, self._where)
        except _DRIVER_ERRORS as exc:
            raise _unavailable(exc, self._where) from exc

    def encode_time(self, moment: datetime.datetime) -> datetime.datetime:
        """TIMESTAMPTZ columns take aware datetimes as they are."""
        return moment

    def decode_time(self, raw: Any) -> datetime.datetime:
        """asyncpg returns TIMESTAMPTZ as an aware UTC datetime."""
        assert isinstance(raw, datetime.datetime)
        return raw.astimezone(datetime.UTC)

    async def close(self) -> None:
        """Close the pool, waiting for connections in use to be released."""
        await self._pool.close()
