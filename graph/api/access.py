"""Who may do what: one place for the role checks of every root field.

| role | may |
|---|---|
| customer | create orders for itself; change, read and subscribe to its own orders and summary |
| staff | everything a customer may, on every order; confirm, ship, cancel; the sales report |
| admin | everything staff may; rebuild projections and read their status |

Another customer's order or summary reads as absent (null, or NOT_FOUND for commands and
subscriptions): a customer cannot learn that it exists. Asking for a field the role may not use
at all is FORBIDDEN. No valid credentials is UNAUTHENTICATED.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import Forbidden
from domain.rules import check_id
from graph.api.identity import AuthenticationError, Principal, Role

if TYPE_CHECKING:
    from graph.api.context import Info

EVERYONE = frozenset(Role)
STAFF = frozenset({Role.STAFF, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})


def principal(info: Info) -> Principal:
    """The caller; UNAUTHENTICATED when the request carried no valid credentials."""
    context = info.context
    if context.principal is None:
        raise AuthenticationError(context.auth_error or "missing credentials")
    return context.principal


def require(info: Info, roles: frozenset[Role], action: str) -> Principal:
    """The caller, when its role is one of `roles`; FORBIDDEN otherwise."""
    caller = principal(info)
    if caller.role not in roles:
        raise Forbidden(f"the {caller.role.value} role may not {action}")
    return caller


def may_see_customer(caller: Principal, customer_id: str) -> bool:
    """Staff see every customer's data; a customer only its own."""
    acting = caller.acting_customer
    return acting is None or acting == customer_id


def listed_customer(caller: Principal, wanted: str | None, action: str) -> str | None:
    """The customer a list of orders is limited to: the one asked for (checked), or none for
    staff; a customer always its own, and asking for another's is FORBIDDEN."""
    if wanted is not None:
        check_id(wanted, "customerId")
    acting = caller.acting_customer
    if acting is None:
        return wanted
    if wanted not in (None, acting):
        raise Forbidden(f"a customer may only {action} its own orders")
    return acting


__all__ = [
    "ADMIN",
    "EVERYONE",
    "STAFF",
    "listed_customer",
    "may_see_customer",
    "principal",
    "require",
]
