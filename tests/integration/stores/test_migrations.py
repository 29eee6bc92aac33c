"""Schema migrations: numbered, recorded, idempotent, safe with two openers, refusing newer schemas,
and left alone, only checked, when a process opens the database with migrate=False."""

from __future__ import annotations

import asyncio

import pytest

from bridge.store.database import Database, utc_now
from bridge.store.factory import connect_database, open_database
from bridge.store.interfaces import SchemaError
from bridge.store.migrations import MIGRATIONS, apply_migrations, latest_version, schema_version


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    """Each dialect's migrations are numbered 1..N in order, and both dialects have the same N."""
    for migrations in MIGRATIONS.values():
        assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert len({latest_version(dialect) for dialect in MIGRATIONS}) == 1


async def test_applying_twice_is_idempotent(db: Database) -> None:
    """Opening migrated the schema; applying again changes nothing and records the same version."""
    assert await schema_version(db) == latest_version(db.dialect)
    assert await apply_migrations(db) == []
    assert await schema_version(db) == latest_version(db.dialect)
    async with db.session() as session:
        rows = await session.fetch("SELECT version FROM schema_version ORDER BY version")
    assert [row["version"] for row in rows] == list(range(1, latest_version(db.dialect) + 1))


async def test_two_openers_at_once_migrate_once(database_url: str) -> None:
    """Two processes migrating a fresh database at the same moment apply each step exactly once."""
    first, second = await connect_database(database_url), await connect_database(database_url)
    try:
        results = await asyncio.gather(apply_migrations(first), apply_migrations(second))
        assert sorted(results, key=len) == [[], list(range(1, latest_version(first.dialect) + 1))]
        assert await schema_version(first) == latest_version(first.dialect)
    finally:
        await first.close()
        await second.close()


async def test_newer_schema_is_refused(db: Database, database_url: str) -> None:
    """A database migrated by a newer rpcbridge is refused with a clear message, not altered."""
    future = latest_version(db.dialect) + 1
    async with db.transaction() as session:
        await session.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
            future,
            "from the future",
            db.encode_time(utc_now()),
        )
    with pytest.raises(SchemaError, match="newer"):
        await open_database(database_url)


async def test_without_migrating_an_unmigrated_database_is_refused_untouched(database_url: str) -> None:
    """migrate=False on a fresh database names `rpcbridge db migrate` in its SchemaError, applies nothing."""
    with pytest.raises(SchemaError, match=r"at version 0, .* run `rpcbridge db migrate`"):
        await open_database(database_url, migrate=False)
    raw = await connect_database(database_url)
    try:
        assert await apply_migrations(raw) == list(range(1, latest_version(raw.dialect) + 1))
    finally:
        await raw.close()
    migrated = await open_database(database_url, migrate=False)
    await migrated.close()


async def test_without_migrating_an_older_schema_is_refused(database_url: str) -> None:
    """migrate=False on a schema one step behind refuses to start rather than run on it."""
    db = await connect_database(database_url)
    try:
        await apply_migrations(db)
        async with db.transaction() as session:
            await session.execute("DELETE FROM schema_version WHERE version = $1", latest_version(db.dialect))
    finally:
        await db.close()
    with pytest.raises(SchemaError, match=f"needs {latest_version(db.dialect)}"):
        await open_database(database_url, migrate=False)
