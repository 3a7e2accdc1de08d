"""The event-store contract on every backend: old schema versions are upcast on read, and what
this code cannot decode is a clear error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from domain.events import EVENT_TYPES, Event
from domain.storage import tables as schema
from domain.storage.registry import EventRegistry, UnknownEventType
from domain.storage.sql import SqlEventStore
from tests.support.domain import NOW, Backend, Store


async def stored_schema_versions(store: Store) -> list[int]:
    """The schema version each stored event was written with, by position."""
    if not isinstance(store, SqlEventStore):
        return [row.schema_version for row in store.records.events]
    async with store.db.read() as conn:
        stored = await conn.execute(
            select(schema.event.c.schema_version).order_by(schema.event.c.position)
        )
        return [row.schema_version for row in stored]


class V1:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class NoteAdded(Event):
        text: str


class V2:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class NoteAdded(Event):
        SCHEMA_VERSION = 2

        body: str
        author: str


def v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    upcast = {key: value for key, value in payload.items() if key != "text"}
    return {**upcast, "body": payload["text"], "author": "unknown"}


def registry_v1() -> EventRegistry:
    return EventRegistry({**EVENT_TYPES, "NoteAdded": V1.NoteAdded})


def registry_v2(*, upcast: bool = True) -> EventRegistry:
    registry = EventRegistry({**EVENT_TYPES, "NoteAdded": V2.NoteAdded})
    if upcast:
        registry.register_upcaster("NoteAdded", 1, v1_to_v2)
    return registry


async def test_old_schema_versions_are_upcast_when_read(backend: Backend) -> None:
    async with backend.open(registry_v1()) as old:
        note = V1.NoteAdded(order_id="n", occurred_at=NOW, text="hello")
        await old.append("n", [note])
        assert [r.event for r in await old.read_stream("n")] == [note]
    async with backend.open(registry_v2()) as new:
        (recorded,) = await new.read_all()
        assert recorded.event == V2.NoteAdded(
            order_id="n", occurred_at=NOW, body="hello", author="unknown"
        )
        fresh = V2.NoteAdded(order_id="n", occurred_at=NOW, body="again", author="me")
        await new.append("n", [fresh])
        assert [r.event for r in await new.read_stream("n")] == [recorded.event, fresh]
        assert await stored_schema_versions(new) == [1, 2]


async def test_reading_what_this_code_cannot_decode_is_a_clear_error(backend: Backend) -> None:
    async with backend.open(registry_v2()) as new:
        await new.append("n", [V2.NoteAdded(order_id="n", occurred_at=NOW, body="b", author="a")])
    async with backend.open(registry_v1()) as old:
        with pytest.raises(UnknownEventType, match=r"schema version 2 is newer than this code"):
            await old.read_all()
    async with backend.open() as plain:
        with pytest.raises(UnknownEventType, match=r"unknown event type 'NoteAdded'"):
            await plain.read_stream("n")


async def test_a_missing_upcaster_is_a_clear_error(backend: Backend) -> None:
    async with backend.open(registry_v1()) as old:
        await old.append("n", [V1.NoteAdded(order_id="n", occurred_at=NOW, text="t")])
    async with backend.open(registry_v2(upcast=False)) as new:
        with pytest.raises(
            UnknownEventType, match=r"no upcaster for NoteAdded from schema version 1"
        ):
            await new.read_all()


def test_an_upcaster_for_an_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        EventRegistry().register_upcaster("NoSuchEvent", 1, v1_to_v2)
