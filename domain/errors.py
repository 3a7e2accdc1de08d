"""Typed domain errors, each carrying the contract's error code."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONCURRENCY_CONFLICT = "CONCURRENCY_CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class DomainError(Exception):
    """A command was refused; nothing was appended."""

    code: ErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Input breaks a rule; `field` names the offending input path when there is one."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class IdempotencyMismatch(ValidationFailed):
    """A commandId that was already handled came back with a different payload."""


class Forbidden(DomainError):
    """The sender may not do this (a customer acting for another customer)."""

    code = ErrorCode.FORBIDDEN


class OrderNotFound(DomainError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} does not exist")
        self.order_id = order_id


class InvalidTransition(DomainError):
    code = ErrorCode.INVALID_TRANSITION


class ConcurrencyConflict(DomainError):
    code = ErrorCode.CONCURRENCY_CONFLICT

    def __init__(self, stream_id: str, *, expected: int, actual: int) -> None:
        super().__init__(
            f"order {stream_id!r} is at version {actual}, not the expected version {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class Unavailable(DomainError):
    """A fault that is not the caller's and may pass (the database full, unreachable or
    restarting, a lock or statement timeout): retry, after `retry_after` seconds. Nothing was
    changed, unless the message says the commit's outcome is unknown (then retry with the
    same commandId)."""

    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


__all__ = [
    "ConcurrencyConflict",
    "DomainError",
    "ErrorCode",
    "Forbidden",
    "IdempotencyMismatch",
    "InvalidTransition",
    "OrderNotFound",
    "Unavailable",
    "ValidationFailed",
]
