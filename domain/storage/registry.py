"""Which event types exist, how they are stored, and how old schema versions are upcast."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.codec import from_json, to_json
from domain.events import EVENT_TYPES, Event

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class UnknownEventType(LookupError):
    """The log holds an event type or schema version this code does not know."""


class EventRegistry:
    """Encodes events for storage and decodes stored ones, upcasting old schema versions."""

    def __init__(self, event_types: Mapping[str, type[Event]] = EVENT_TYPES) -> None:
        self._types = dict(event_types)
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register_upcaster(self, event_type: str, from_version: int, upcaster: Upcaster) -> None:
        """Teach the registry to turn `event_type` at `from_version` into `from_version + 1`."""
        if event_type not in self._types:
            raise UnknownEventType(f"unknown event type {event_type!r}")
        self._upcasters[(event_type, from_version)] = upcaster

    def encode(self, event: Event) -> tuple[str, int, Payload]:
        """The stored form of an event: type name, schema version, JSON-safe payload."""
        payload: Payload = to_json(event)
        return type(event).__name__, event.SCHEMA_VERSION, payload

    def decode(self, event_type: str, schema_version: int, payload: Payload) -> Event:
        """The current form of a stored event, upcast step by step from its schema version."""
        cls = self._types.get(event_type)
        if cls is None:
            raise UnknownEventType(f"unknown event type {event_type!r}")
        version = schema_version
        while version < cls.SCHEMA_VERSION:
            upcaster = self._upcasters.get((event_type, version))
            if upcaster is None:
                raise UnknownEventType(
                    f"no upcaster for {event_type} from schema version {version} "
                    f"to {cls.SCHEMA_VERSION}"
                )
            payload = upcaster(payload)
            version += 1
        if version > cls.SCHEMA_VERSION:
            raise UnknownEventType(
                f"{event_type} schema version {version} is newer than this code "
                f"({cls.SCHEMA_VERSION}): upgrade ordergraph"
            )
        return from_json(cls, payload)


__all__ = ["EventRegistry", "UnknownEventType", "Upcaster"]
