"""The CommandBus: handlers by command type, a middleware chain, and group commit.

`dispatch` queues a command and waits. One writer task drains the queue and runs the queued
commands one after another inside ONE write transaction: each through the middleware chain and
its handler, against a unit of work that stages events. A command that fails is rolled back out
of the batch (nothing of it is written); the rest commit together, and only after the commit are
the callers answered. Many concurrent requests thus share one transaction.

A batch the store could not write for a fault (`StoreUnavailable`: the database full,
unreachable, restarting, a lock timed out) is run again after a short backoff while that
stays within `fault_retry_seconds`; then each of its commands is answered `Unavailable`
(SERVICE_UNAVAILABLE). A batch whose COMMIT was lost on its way is not run again (it may
have committed): its callers are told to retry with the same commandId.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from domain.commands import Command, CommandResult, OrderCommand
from domain.errors import DomainError, OrderNotFound
from domain.events import Event
from domain.order import Order
from domain.ports import AppendBatch, EventStore, HandledCommand
from domain.storage.faults import StoreUnavailable
from domain.storage.staging import BatchRaced

log = logging.getLogger("ordergraph.commands")

C = TypeVar("C", bound=Command)
Handler = Callable[[Any, "UnitOfWork"], Awaitable[CommandResult]]
Next = Callable[[Command, "UnitOfWork"], Awaitable[CommandResult]]
Middleware = Callable[[Command, "UnitOfWork", Next], Awaitable[CommandResult]]
Observer = Callable[["CommandOutcome"], None]

# A batch refused for a fault is run again after these pauses (about 1 s in all).
FAULT_BACKOFF = (0.05, 0.1, 0.2, 0.25, 0.4)


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandOutcome:
    """How one dispatch ended: "ok", a DomainError's code ("NOT_FOUND", ...), or
    "INTERNAL_SERVER_ERROR"; `seconds` from the start of `dispatch` to its answer."""

    command: Command
    outcome: str
    seconds: float


class BatchWatch(Protocol):
    """What follows commands through group commit (traces): `dispatching` wraps one dispatch
    in its caller's task and yields a mark; `committing` wraps one batch's transaction in the
    writer's task and is given the marks of the batch's commands."""

    def dispatching(self, command: Command) -> AbstractContextManager[object]: ...

    def committing(self, marks: Sequence[object]) -> AbstractContextManager[object]: ...


class UnknownCommand(LookupError):
    """No handler is registered for this command type."""


class BusNotRunning(RuntimeError):
    """The bus is not started, or is stopping: the command was not taken."""


class UnitOfWork:
    """What a handler works with: orders as of this batch, and a place to record new events."""

    def __init__(self, batch: AppendBatch) -> None:
        self._batch = batch
        self._orders: dict[str, Order] = {}

    async def get(self, command: OrderCommand) -> Order:
        """The command's order as of this batch: NOT_FOUND (also when the order belongs to
        another customer than the one the command acts for) or CONCURRENCY_CONFLICT."""
        order = self._orders.get(command.order_id)
        if order is None:
            events = await self._batch.load_stream(command.order_id)
            if not events:
                raise OrderNotFound(command.order_id)
            order = Order.replay(events)
            self._orders[command.order_id] = order
        if command.on_behalf_of is not None and command.on_behalf_of != order.customer_id:
            raise OrderNotFound(command.order_id)
        order.check_version(command.expected_version)
        return order

    def record(self, command: Command, order: Order | None, *events: Event) -> CommandResult:
        """Stage new events for an order (None: a new order) and return the command's result."""
        if order is None:
            new_state = Order.replay(list(events))
            base_version = 0
        else:
            new_state = order
            for event in events:
                new_state = new_state.apply(event)
            base_version = order.version
        recorded = self._batch.stage(
            new_state.id,
            events,
            expected_version=base_version,
            command_id=command.command_id,
            correlation_id=command.correlation_id,
        )
        self._orders[new_state.id] = new_state
        return CommandResult(
            command_id=command.command_id,
            order_id=new_state.id,
            version=new_state.version,
            position=recorded[-1].position,
        )

    async def find_command(self, command_id: str) -> HandledCommand | None:
        return await self._batch.find_command(command_id)

    def remember(self, fingerprint: str, result: CommandResult) -> None:
        self._batch.remember(fingerprint, result)

    async def attempt(self, run: Next, command: Command) -> CommandResult:
        """Run one command; if it raises, undo what it staged and re-raise."""
        mark = self._batch.mark()
        orders = dict(self._orders)
        try:
            return await run(command, self)
        except BaseException:
            self._batch.rollback(mark)
            self._orders = orders
            raise


@dataclass(slots=True)
class _Pending:
    command: Command
    future: asyncio.Future[CommandResult]
    mark: object = None
    outcome: CommandResult | BaseException | None = field(default=None)


_STOP = object()


class CommandBus:
    """Dispatches commands to their handlers through middleware, committing them in groups."""

    def __init__(
        self,
        store: EventStore,
        *,
        middlewares: Sequence[Middleware] = (),
        max_batch: int = 256,
        fault_backoff: Sequence[float] = FAULT_BACKOFF,
    ) -> None:
        self._store = store
        self._handlers: dict[type[Command], Handler] = {}
        self._chain: Next = self._call_handler
        for middleware in reversed(middlewares):
            self._chain = _bind(middleware, self._chain)
        self._max_batch = max_batch
        self._fault_backoff = tuple(fault_backoff)
        self._queue: asyncio.Queue[_Pending | object] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._accepting = False
        self._observers: list[Observer] = []
        self._watch: BatchWatch | None = None

    def register(
        self, command_type: type[C], handler: Callable[[C, UnitOfWork], Awaitable[CommandResult]]
    ) -> None:
        """Route commands of `command_type` to `handler`."""
        self._handlers[command_type] = handler

    def observe(self, observer: Observer) -> None:
        """Call `observer` once per dispatch with its outcome, refusals by the input rules
        included (an error that is not a DomainError, or a caller cancelled while it waits,
        counts as "INTERNAL_SERVER_ERROR"). An observer that raises is logged, never fails the
        dispatch."""
        self._observers.append(observer)

    def watch(self, watch: BatchWatch) -> None:
        """Let `watch` follow every dispatch and every batch from now on (one at most)."""
        self._watch = watch

    @property
    def running(self) -> bool:
        return self._writer is not None and not self._writer.done()

    async def start(self) -> None:
        """Start the writer task."""
        if self.running:
            return
        self._accepting = True
        self._writer = asyncio.create_task(self._write_loop(), name="ordergraph-command-writer")
        self._writer.add_done_callback(self._writer_ended)

    async def stop(self) -> None:
        """Commit what is queued, then stop the writer task."""
        self._accepting = False
        if self._writer is None:
            return
        self._queue.put_nowait(_STOP)
        with contextlib.suppress(Exception):
            await self._writer
        self._writer = None

    async def dispatch(self, command: Command) -> CommandResult:
        """Handle one command; raises its DomainError when it is refused."""
        started = time.perf_counter()
        outcome = "INTERNAL_SERVER_ERROR"
        watch = self._watch
        try:
            if watch is None:
                result = await self._dispatch(command)
            else:
                with watch.dispatching(command) as mark:
                    result = await self._dispatch(command, mark)
        except DomainError as error:
            outcome = error.code.value
            raise
        else:
            outcome = "ok"
            return result
        finally:
            self._observed(command, outcome, time.perf_counter() - started)

    def _observed(self, command: Command, outcome: str, seconds: float) -> None:
        if not self._observers:
            return
        observed = CommandOutcome(command=command, outcome=outcome, seconds=seconds)
        for observer in self._observers:
            try:
                observer(observed)
            except Exception:
                log.exception("a command observer failed on %s", command.command_id)

    async def _dispatch(self, command: Command, mark: object = None) -> CommandResult:
        command = command.checked()
        if type(command) not in self._handlers:
            raise UnknownCommand(f"no handler is registered for {type(command).__name__}")
        if not (self._accepting and self.running):
            raise BusNotRunning("the command bus is not running")
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(command, future, mark))
        return await future

    def _writer_ended(self, writer: asyncio.Task[None]) -> None:
        """Whatever ended the writer, nobody waits for it any longer."""
        self._accepting = False
        if not writer.cancelled() and writer.exception() is not None:
            log.critical("the command writer died", exc_info=writer.exception())
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Pending) and not item.future.done():
                item.future.set_exception(BusNotRunning("the command bus stopped"))

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            item = await self._queue.get()
            if item is _STOP:
                break
            assert isinstance(item, _Pending)
            batch = [item]
            while len(batch) < self._max_batch and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is _STOP:
                    stopping = True
                    break
                assert isinstance(more, _Pending)
                batch.append(more)
            try:
                await self._commit(batch)
            finally:
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(BusNotRunning("the command bus stopped"))

    async def _commit(self, batch: list[_Pending]) -> None:
        """Commit a batch; if the database refuses it, retry its commands one by one so that
        only the command at fault fails. A fault is retried after a pause, then answered."""
        pauses = iter(self._fault_backoff)
        while True:
            try:
                await self._transact(batch)
            except BatchRaced:
                continue  # another process appended first: run the batch again
            except StoreUnavailable as fault:
                pause = None if fault.in_doubt else next(pauses, None)
                if pause is None:
                    refusal = fault.refusal()
                    for pending in batch:
                        pending.outcome = refusal
                    break
                await asyncio.sleep(pause)
                continue
            except Exception as exc:
                if len(batch) > 1:
                    log.warning(
                        "a batch of %d commands failed to commit (%s); retrying them one by one",
                        len(batch),
                        exc,
                    )
                    for pending in batch:
                        pending.outcome = None
                        await self._commit([pending])
                    return
                log.exception("command %s failed to commit", batch[0].command.command_id)
                batch[0].outcome = exc
            break
        for pending in batch:
            if pending.future.done():
                continue
            if isinstance(pending.outcome, CommandResult):
                pending.future.set_result(pending.outcome)
            else:
                assert pending.outcome is not None
                pending.future.set_exception(pending.outcome)

    async def _transact(self, batch: list[_Pending]) -> None:
        """One attempt at the batch's transaction, inside the watch's `committing` when one
        follows the bus."""
        if self._watch is None:
            await self._run(batch)
            return
        with self._watch.committing([pending.mark for pending in batch]):
            await self._run(batch)

    async def _run(self, batch: list[_Pending]) -> None:
        async with self._store.transaction() as append_batch:
            await append_batch.prefetch(
                (pending.command.idempotency_key for pending in batch),
                (p.command.order_id for p in batch if isinstance(p.command, OrderCommand)),
            )
            uow = UnitOfWork(append_batch)
            for pending in batch:
                try:
                    pending.outcome = await uow.attempt(self._chain, pending.command)
                except (KeyboardInterrupt, SystemExit, StoreUnavailable):
                    raise  # a fault fails the whole batch, not this command
                except BaseException as exc:
                    task = asyncio.current_task()
                    if isinstance(exc, asyncio.CancelledError) and task and task.cancelling():
                        raise
                    pending.outcome = exc

    async def _call_handler(self, command: Command, uow: UnitOfWork) -> CommandResult:
        return await self._handlers[type(command)](command, uow)


def _bind(middleware: Middleware, call_next: Next) -> Next:
    async def call(command: Command, uow: UnitOfWork) -> CommandResult:
        return await middleware(command, uow, call_next)

    return call


__all__ = [
    "FAULT_BACKOFF",
    "BatchWatch",
    "BusNotRunning",
    "CommandBus",
    "CommandOutcome",
    "Handler",
    "Middleware",
    "Next",
    "Observer",
    "UnitOfWork",
    "UnknownCommand",
]
