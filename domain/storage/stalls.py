"""Ending the sessions of stalled processes, which no PostgreSQL timeout ends.

`idle_in_transaction_session_timeout` ends a session left idle inside a transaction, but not
one the server is reading a message for: asyncpg prepares a statement with Parse, Describe and
Flush (no Sync), so a process stopped between that and the Bind that follows (SIGSTOP, an event
loop held by other work) leaves its session `active`, waiting on `ClientRead`, holding its
locks, with no timeout armed. When a lock wait times out (`lock_timeout`), the store ends the
ordergraph sessions that have waited on their client inside a transaction for longer than
STALLED_SECONDS: a live process sends its next message within milliseconds.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from domain.storage.database import Database

log = logging.getLogger("ordergraph.storage")

STALLED_SECONDS = 1.5

_END_STALLED = text(
    "SELECT application_name, round(extract(epoch FROM now() - state_change)::numeric, 1), "
    "pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND application_name LIKE 'ordergraph:%' AND xact_start IS NOT NULL "
    "AND wait_event = 'ClientRead' AND now() - state_change > make_interval(secs => :seconds)"
)


async def end_stalled_sessions(db: Database) -> int:
    """End the stalled ordergraph sessions on `db` (PostgreSQL); how many were ended. One log
    line each; a failure to look is logged, never raised (the caller is handling a fault)."""
    try:
        async with db.read() as conn:
            ended = (await conn.execute(_END_STALLED, {"seconds": STALLED_SECONDS})).all()
    except Exception as error:
        log.warning("cannot end stalled sessions: %s", " ".join(str(error).split())[:300])
        return 0
    for name, seconds, _terminated in ended:
        log.warning(
            "ended the session of %s: it held a transaction open, waiting %s s for its client "
            "(the process is stalled)",
            name,
            seconds,
        )
    return len(ended)


__all__ = ["STALLED_SECONDS", "end_stalled_sessions"]
