"""The middleware chain: its order around handlers, replays that never reach them, the log line."""

from __future__ import annotations

import pytest

from domain.bus import CommandBus, Middleware, Next, UnitOfWork
from domain.commands import (
    AddOrderItem,
    Command,
    CommandResult,
    ConfirmOrder,
    CreateOrder,
)
from domain.errors import (
    OrderNotFound,
)
from domain.handlers import create_order, on_order
from domain.middleware import idempotency, logging_middleware
from tests.support.domain import (
    Store,
    confirm,
    create,
    running,
)

# --- middleware -----------------------------------------------------------------------------------


async def test_middleware_runs_in_order_around_handlers_that_never_see_it(
    store: Store,
) -> None:
    trace: list[str] = []
    seen_by_handlers: list[Command] = []

    def tracer(name: str) -> Middleware:
        async def middleware(command: Command, uow: UnitOfWork, call_next: Next) -> CommandResult:
            trace.append(f"{name}>{type(command).__name__}")
            try:
                return await call_next(command, uow)
            finally:
                trace.append(f"{name}<")

        return middleware

    async def traced_create(command: CreateOrder, uow: UnitOfWork) -> CommandResult:
        seen_by_handlers.append(command)
        trace.append("handler")
        return await create_order(command, uow, new_id=lambda: "o-1")

    async def traced_confirm(command: ConfirmOrder, uow: UnitOfWork) -> CommandResult:
        seen_by_handlers.append(command)
        trace.append("handler")
        return await on_order(command, uow)

    outer, inner = tracer("outer"), tracer("inner")
    bus = CommandBus(store, middlewares=(outer, logging_middleware, idempotency, inner))
    bus.register(CreateOrder, traced_create)
    bus.register(ConfirmOrder, traced_confirm)
    bus.register(AddOrderItem, on_order)
    creating = create()
    async with running(bus):
        await bus.dispatch(creating)
        assert trace == ["outer>CreateOrder", "inner>CreateOrder", "handler", "inner<", "outer<"]
        trace.clear()
        await bus.dispatch(creating)
        assert trace == ["outer>CreateOrder", "outer<"], "a replay never reaches the handler"
        trace.clear()
        with pytest.raises(OrderNotFound):
            await bus.dispatch(confirm("missing"))
        assert trace == ["outer>ConfirmOrder", "inner>ConfirmOrder", "handler", "inner<", "outer<"]
    assert seen_by_handlers[0] == creating
    assert [type(command) for command in seen_by_handlers] == [CreateOrder, ConfirmOrder]


async def test_the_logging_middleware_logs_refusals_with_their_code(
    bus: CommandBus, caplog: pytest.LogCaptureFixture
) -> None:
    refused = confirm("missing", correlation_id="req-42")
    with caplog.at_level("INFO", logger="ordergraph.commands"), pytest.raises(OrderNotFound):
        await bus.dispatch(refused)
    (message,) = [r.getMessage() for r in caplog.records if refused.command_id in r.getMessage()]
    assert "ConfirmOrder" in message
    assert "NOT_FOUND" in message
    assert "req-42" in message
