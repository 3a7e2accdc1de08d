"""Who is calling: the principal every resolver checks, its role, and the error for a caller
without valid credentials. The HTTP edge verifies tokens into a `Principal` (graph/http/auth.py);
the GraphQL surface only reads it (graph/api/access.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """The authenticated caller."""

    subject: str
    role: Role
    # When the credentials stop being valid (POSIX seconds); None: never (development mode).
    # Not part of who the caller is.
    expires_at: float | None = field(default=None, compare=False)

    @property
    def is_staff(self) -> bool:
        """Staff and admins see and handle every order."""
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def acting_customer(self) -> str | None:
        """The customer this caller acts for, or None for staff and admins."""
        return None if self.is_staff else self.subject


DEVELOPMENT_PRINCIPAL = Principal(subject="development", role=Role.ADMIN)


class AuthenticationError(Exception):
    """No valid credentials: the request is UNAUTHENTICATED."""


__all__ = ["DEVELOPMENT_PRINCIPAL", "AuthenticationError", "Principal", "Role"]
