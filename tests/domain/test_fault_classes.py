"""`fault_of` tells a fault (not the caller's, may pass) from a bug, on errors the real databases
raise through SQLAlchemy as the service meets them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.storage.faults import FaultKind, fault_of
from tests.support.pgserver import free_port


async def raised(action: Awaitable[object]) -> BaseException:
    try:
        await action
    except Exception as error:
        return error
    raise AssertionError("nothing was raised")


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_async_engine(postgres_url, pool_size=4)
    try:
        yield created
    finally:
        await created.dispose()


async def run(engine: AsyncEngine, *statements: str) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def lock_timeout(engine: AsyncEngine) -> None:
    async with engine.begin() as holder:
        await holder.execute(text("SELECT pg_advisory_xact_lock(42)"))
        await run(engine, "SET LOCAL lock_timeout = '50ms'", "SELECT pg_advisory_xact_lock(42)")


async def statement_timeout(engine: AsyncEngine) -> None:
    await run(engine, "SET LOCAL statement_timeout = '50ms'", "SELECT pg_sleep(2)")


async def idle_in_transaction(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("SET idle_in_transaction_session_timeout = '100ms'"))
        await asyncio.sleep(0.5)
        await conn.execute(text("SELECT 1"))


async def terminated(engine: AsyncEngine) -> None:
    async with engine.connect() as victim:
        pid = await victim.scalar(text("SELECT pg_backend_pid()"))
        await run(engine, f"SELECT pg_terminate_backend({pid})")
        await victim.execute(text("SELECT 1"))


async def deadlock(engine: AsyncEngine) -> None:
    await run(engine, "CREATE TABLE pair (id int PRIMARY KEY)", "INSERT INTO pair VALUES (1), (2)")
    both = asyncio.Barrier(2)

    async def cross(first: int, second: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text(f"SELECT * FROM pair WHERE id = {first} FOR UPDATE"))
            await both.wait()
            await conn.execute(text(f"SELECT * FROM pair WHERE id = {second} FOR UPDATE"))

    await asyncio.gather(cross(1, 2), cross(2, 1))


async def serialization(engine: AsyncEngine) -> None:
    await run(
        engine,
        "CREATE TABLE account (id int PRIMARY KEY, n int)",
        "INSERT INTO account VALUES (1, 0)",
    )
    both = asyncio.Barrier(2)

    async def bump() -> None:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="SERIALIZABLE")
            async with conn.begin():
                await conn.execute(text("SELECT n FROM account"))
                await both.wait()
                await conn.execute(text("UPDATE account SET n = n + 1"))

    await asyncio.gather(bump(), bump())


async def refused(_engine: AsyncEngine) -> None:
    elsewhere = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x")
    try:
        await run(elsewhere, "SELECT 1")
    finally:
        await elsewhere.dispose()


FAULTS: dict[str, tuple[Callable[[AsyncEngine], Awaitable[None]], FaultKind]] = {
    "lock_timeout (55P03)": (lock_timeout, FaultKind.BUSY),
    "statement_timeout (57014)": (statement_timeout, FaultKind.BUSY),
    "idle_in_transaction_session_timeout (25P03)": (idle_in_transaction, FaultKind.UNREACHABLE),
    "a terminated backend (57P01)": (terminated, FaultKind.UNREACHABLE),
    "deadlock_detected (40P01)": (deadlock, FaultKind.BUSY),
    "serialization_failure (40001)": (serialization, FaultKind.BUSY),
    "connection refused": (refused, FaultKind.UNREACHABLE),
}


@pytest.mark.parametrize(("cause", "kind"), FAULTS.values(), ids=FAULTS.keys())
async def test_postgresql_faults_are_faults(
    engine: AsyncEngine, cause: Callable[[AsyncEngine], Awaitable[None]], kind: FaultKind
) -> None:
    error = await raised(cause(engine))
    fault = fault_of(error)
    assert fault is not None, repr(error)
    assert fault.kind is kind
    assert "\n" not in fault.cause


BUGS = {
    "unique_violation": ("CREATE TABLE u (id int PRIMARY KEY)", "INSERT INTO u VALUES (1), (1)"),
    "syntax_error": ("SELEC 1",),
    "undefined_table": ("SELECT * FROM nowhere",),
    "division_by_zero": ("SELECT 1 / 0",),
    "string too long": ("CREATE TABLE s (v varchar(2))", "INSERT INTO s VALUES ('abc')"),
}


@pytest.mark.parametrize("statements", BUGS.values(), ids=BUGS.keys())
async def test_postgresql_errors_of_the_statement_are_not_faults(
    engine: AsyncEngine, statements: tuple[str, ...]
) -> None:
    assert fault_of(await raised(run(engine, *statements))) is None


async def test_sqlite_locked_past_its_busy_timeout_is_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    try:
        error = await raised(run(engine, "PRAGMA busy_timeout = 50", "INSERT INTO t VALUES (1)"))
    finally:
        await engine.dispose()
        holder.close()
    fault = fault_of(error)
    assert fault is not None, repr(error)
    assert fault.kind is FaultKind.BUSY
    assert "database is locked" in fault.cause


async def test_sqlite_errors_of_the_statement_are_not_faults(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/bugs.db")
    try:
        for statements in (
            ("SELEC 1",),
            ("CREATE TABLE u (id PRIMARY KEY)", "INSERT INTO u VALUES (1), (1)"),
        ):
            assert fault_of(await raised(run(engine, *statements))) is None
    finally:
        await engine.dispose()
