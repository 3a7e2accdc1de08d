"""Middleware every command passes through; handlers never see it."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import replace

from domain.bus import Next, UnitOfWork
from domain.codec import to_json
from domain.commands import Command, CommandResult, CreateOrder
from domain.errors import DomainError, Forbidden, IdempotencyMismatch
from domain.storage.faults import StoreUnavailable

log = logging.getLogger("ordergraph.commands")

# What a retry may change without being a different command.
_ENVELOPE = frozenset({"command_id", "issued_at", "correlation_id"})


def fingerprint(command: Command) -> str:
    """A digest of what the command asks for: its type and payload, not its envelope."""
    payload = {k: v for k, v in to_json(command).items() if k not in _ENVELOPE}
    canonical = json.dumps([type(command).__name__, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def idempotency(command: Command, uow: UnitOfWork, call_next: Next) -> CommandResult:
    """A commandId its sender handled before returns its first result; a different payload is
    refused. Ids are scoped to their sender (`Command.idempotency_key`: each customer its own
    namespace, staff one), and what the caller may not do at all is refused first, so neither
    answer depends on what another caller stored."""
    check_acting_for_itself(command)
    key = command.idempotency_key
    digest = fingerprint(command)
    handled = await uow.find_command(key)
    if handled is not None:
        if handled.fingerprint != digest:
            raise IdempotencyMismatch(
                f"commandId {command.command_id!r} was already used for a different command",
                field="commandId",
            )
        return replace(handled.result, command_id=command.command_id)
    result = await call_next(command, uow)
    uow.remember(digest, replace(result, command_id=key))
    return result


def check_acting_for_itself(command: Command) -> None:
    """FORBIDDEN for a customer creating an order for another customer (checked again by the
    order itself); it needs no state, so it runs before any lookup."""
    if isinstance(command, CreateOrder) and command.on_behalf_of not in (None, command.customer_id):
        raise Forbidden("a customer may only create orders for itself")


async def logging_middleware(command: Command, uow: UnitOfWork, call_next: Next) -> CommandResult:
    """One log line per command with its id, correlation id, outcome and duration."""
    started = time.perf_counter()
    name = type(command).__name__
    try:
        result = await call_next(command, uow)
    except DomainError as error:
        log.info(
            "%s %s refused: %s %s (correlation %s, %.2f ms)",
            name,
            command.command_id,
            error.code.value,
            error.message,
            command.correlation_id,
            (time.perf_counter() - started) * 1000,
        )
        raise
    except StoreUnavailable:
        raise  # the store logs a fault once per incident
    except Exception:
        log.exception(
            "%s %s failed (correlation %s)", name, command.command_id, command.correlation_id
        )
        raise
    log.debug(
        "%s %s ok: order %s v%d at %d (correlation %s, %.2f ms)",
        name,
        command.command_id,
        result.order_id,
        result.version,
        result.position,
        command.correlation_id,
        (time.perf_counter() - started) * 1000,
    )
    return result


__all__ = ["check_acting_for_itself", "fingerprint", "idempotency", "logging_middleware"]
