"""A start-up failure in one log line: when the lifespan fails (the database unreachable, the
schema at another revision), uvicorn logs the message of `lifespan.startup.failed`, which
Starlette fills with the whole traceback; this middleware puts the cause's one line there
instead (the traceback stays in the log at DEBUG)."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from graph.ops.preflight import describe

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ordergraph.app")


class OneLineStartupErrors:
    """ASGI middleware: rewrites `lifespan.startup.failed` to name only the cause."""

    def __init__(self, app: ASGIApp, database: str) -> None:
        self.app = app
        self._database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def one_line(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                # Starlette sends this from inside its `except` block: the error is current.
                error = sys.exc_info()[1]
                if error is not None:
                    log.debug("start-up failed", exc_info=error)
                    reason = f"ordergraph cannot start on {self._database}: {describe(error)}"
                    message = {**message, "message": reason}
            await send(message)

        await self.app(scope, receive, one_line)


__all__ = ["OneLineStartupErrors"]
