"""Session consistency: the position a request's reads must reflect (the client's
`OrderGraph-Min-Position`), and the highest position it wrote or read (the
`OrderGraph-Position` of its answer), which the client sends back on its next request.

"The highest position it read" is, exactly, the highest position the request's reads are known
to reflect, never more than a read proved:
- a read with a minimum position (its field's or the session's) reflects what its freshness
  proof reached (`extensions.freshness`'s `reached`, the lowest of its projections): on a
  replica the checkpoints in the read's own snapshot, on the views database what this process
  knew was applied when the read ran (the read sees at least that);
- a read without one on the views database reflects at least what this process knew its
  projection had applied when the read started;
- a read without one on a replica proves nothing and reports nothing (a client that wants
  every read to report what it reflects sends `OrderGraph-Min-Position: 0`).
So sending the position back never makes a read see less than what the client has seen, and
never makes it wait for more than some read of the session reflected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import ValidationFailed
from graph.api.scalars import POSITION_MAX

if TYPE_CHECKING:
    from readmodels.dto import WaitResult

MIN_POSITION_HEADER = "OrderGraph-Min-Position"
POSITION_HEADER = "OrderGraph-Position"
MIN_POSITION_EXTENSION = "minPosition"
_MAX_DIGITS = len(str(POSITION_MAX))


class Session:
    """One request's (or one WebSocket operation's) session minimum, and the positions it
    wrote and read."""

    __slots__ = ("_read", "_wrote", "minimum")

    def __init__(self, minimum: int | None = None) -> None:
        self.minimum = minimum
        self._wrote: int | None = None
        self._read: int | None = None

    def at_least(self, position: int | None) -> int | None:
        """The position a read must reflect: the larger of a field's `minPosition` and the
        session's (None when neither is given)."""
        if position is None:
            return self.minimum
        if self.minimum is None:
            return position
        return max(position, self.minimum)

    def wrote(self, position: int) -> None:
        """A command of this request appended up to `position`."""
        self._wrote = position if self._wrote is None else max(self._wrote, position)

    def read(self, position: int) -> None:
        """A read of this request is known to reflect `position`."""
        self._read = position if self._read is None else max(self._read, position)

    def proved(self, result: WaitResult) -> None:
        """A read's freshness proof: it reflects the lowest position its projections reached."""
        if result.reached:
            self.read(min(result.reached.values()))

    @property
    def position(self) -> int | None:
        """The highest position written, else the highest read (None: neither happened)."""
        return self._wrote if self._wrote is not None else self._read


def min_position_from_header(value: str) -> int:
    """`OrderGraph-Min-Position`'s value: decimal digits for 0..2^63-1, else BAD_USER_INPUT."""
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        raise _not_a_position(MIN_POSITION_HEADER, value)
    return _in_range(int(text), MIN_POSITION_HEADER)


def min_position_from_json(value: object, field: str) -> int:
    """A JSON `minPosition` (an extension, a connection_init payload's): an integer in
    0..2^63-1 (not a string, not a float, not a boolean), else BAD_USER_INPUT."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _not_a_position(field, value)
    return _in_range(value, field)


def _in_range(position: int, field: str) -> int:
    if not 0 <= position <= POSITION_MAX:
        raise _not_a_position(field, position)
    return position


def _not_a_position(field: str, value: object) -> ValidationFailed:
    if isinstance(value, str):
        shown = repr(value[:40])
    elif isinstance(value, int | float):
        shown = repr(value)[:40]
    else:
        shown = f"a {type(value).__name__}"
    return ValidationFailed(
        f"{field} must be a non-negative integer (a position, 0 to {POSITION_MAX}), got {shown}",
        field=field,
    )


__all__ = [
    "MIN_POSITION_EXTENSION",
    "MIN_POSITION_HEADER",
    "POSITION_HEADER",
    "Session",
    "min_position_from_header",
    "min_position_from_json",
]
