"""Opaque page cursors: urlsafe base64 of an order's created_at, sequence and id."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import ValidationFailed

SEQ_MAX = 2**63 - 1  # a BIGINT
# Every database stores these (PostgreSQL's timestamptz reaches further; Python's datetime
# does not): years 1 to 9998 once in UTC, so no offset can carry the time out of range.
_FIRST_YEAR, _LAST_YEAR = 1, 9998


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCursor:
    """An order's place in a list: orders list by (created_at, seq) descending. The same cursor
    serves either direction (`after` or `before`)."""

    created_at: datetime
    seq: int
    order_id: str

    @property
    def key(self) -> tuple[datetime, int]:
        """What the list is sorted by (descending)."""
        return self.created_at, self.seq

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.seq}|{self.order_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, cursor: str, field: str = "after") -> OrderCursor:
        """Parse a cursor, or raise ValidationFailed naming `field` (the argument it came in)."""
        try:
            raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
            created, seq, order_id = raw.split("|", 2)
            created_at = datetime.fromisoformat(created)
            if created_at.tzinfo is None or not order_id or not seq.isdigit() or len(seq) > 19:
                raise ValueError("incomplete cursor")
            created_at = created_at.astimezone(UTC)
            if not _FIRST_YEAR <= created_at.year <= _LAST_YEAR or int(seq) > SEQ_MAX:
                raise ValueError("out of range")
            return cls(created_at=created_at, seq=int(seq), order_id=order_id)
        except (ValueError, OverflowError, UnicodeError, binascii.Error):
            raise ValidationFailed("malformed cursor", field=field) from None


__all__ = ["SEQ_MAX", "OrderCursor"]
