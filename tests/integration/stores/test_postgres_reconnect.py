"""A read whose pooled PostgreSQL connection the server ended is repeated once on a fresh connection."""

from __future__ import annotations

import asyncpg
import pytest

from bridge.store.factory import open_database
from bridge.store.interfaces import StoreUnavailable
from tests.integration.conftest import POSTGRES_URL


async def terminate(pid: int) -> None:
    """End one server backend, as a restart, a failover or an operator would."""
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


@pytest.mark.postgres
async def test_a_read_on_a_connection_the_server_ended_is_answered(postgres_url: str) -> None:
    """The sidecar's user lookups run on pooled connections: one ended under a session still reads."""
    db = await open_database(postgres_url)
    try:
        async with db.session() as session:
            row = await session.fetchrow("SELECT pg_backend_pid() AS pid")
            assert row is not None
            await terminate(row["pid"])
            again = await session.fetchrow("SELECT pg_backend_pid() AS pid")
            assert again is not None and again["pid"] != row["pid"]
    finally:
        await db.close()


@pytest.mark.postgres
async def test_in_a_transaction_nothing_is_repeated(postgres_url: str) -> None:
    """A transaction whose connection ended fails as unavailable: its statements are not replayed."""
    db = await open_database(postgres_url)

    async def transaction_whose_connection_ends() -> None:
        async with db.transaction() as session:
            row = await session.fetchrow("SELECT pg_backend_pid() AS pid")
            assert row is not None
            await terminate(row["pid"])
            await session.fetchrow("SELECT 1 AS one")

    try:
        with pytest.raises(StoreUnavailable):
            await transaction_whose_connection_ends()
    finally:
        await db.close()
