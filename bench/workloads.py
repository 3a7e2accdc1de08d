"""The GraphQL documents and request bodies each row sends."""

from __future__ import annotations

import json
from typing import Any

ORDER_FIELDS = (
    "id customerId status items { sku quantity unitPrice lineTotal } itemCount totalAmount "
    "shippingAddress { name line1 line2 city postalCode country } trackingNumber "
    "cancellationReason createdAt updatedAt version position"
)
TYPENAME = "{ __typename }"
CREATE = (
    "mutation Create($input: CreateOrderInput!) { createOrder(input: $input) "
    "{ commandId orderId version position } }"
)
CREATE_VIEW = (
    "mutation CreateView($input: CreateOrderInput!) { createOrder(input: $input) "
    f"{{ commandId orderId version position order {{ {ORDER_FIELDS} }} }} }}"
)
GET = f"query Get($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
# Every field but `lineTotal`, which the raw rows do not carry either.
LIST_FIELDS = ORDER_FIELDS.replace(" lineTotal", "")
LIST = (
    "query List { orders(first: 100) { edges { cursor node { "
    f"{LIST_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
)
# Five fields of each order of a page: the selection the list reader must not pay for in full.
FIVE = (
    "query Five { orders(first: 100) { edges { node "
    "{ id status totalAmount createdAt customerId } } } }"
)
ADD_ITEM = (
    "mutation Add($input: AddOrderItemInput!) { addOrderItem(input: $input) "
    "{ orderId version position } }"
)
ORDER_UPDATED = (
    "subscription Watch($id: ID!, $after: Position) "
    f"{{ orderUpdated(id: $id, afterPosition: $after) {{ {ORDER_FIELDS} }} }}"
)

CREATE_INPUT: dict[str, Any] = {
    "customerId": "customer-bench-1",
    "items": [
        {"sku": "SKU-RED-1", "quantity": 2, "unitPrice": "19.99"},
        {"sku": "SKU-BLUE-2", "quantity": 1, "unitPrice": "5.00"},
        {"sku": "SKU-GREEN-3", "quantity": 3, "unitPrice": "7.25"},
    ],
    "shippingAddress": {
        "name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "line2": None,
        "city": "London",
        "postalCode": "SW1Y 4JH",
        "country": "GB",
    },
}


def body(query: str, variables: dict[str, Any] | None = None) -> str:
    """A GraphQL-over-HTTP POST body."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return json.dumps(payload, separators=(",", ":"))


def create_body(with_view: bool = False) -> str:
    """createOrder with 3 lines and no commandId: every request places a new order."""
    return body(CREATE_VIEW if with_view else CREATE, {"input": CREATE_INPUT})


def add_item_body(order_id: str, sku: str) -> str:
    item = {"sku": sku, "quantity": 1, "unitPrice": "1.00"}
    return body(ADD_ITEM, {"input": {"orderId": order_id, "item": item}})


__all__ = [
    "CREATE_INPUT",
    "GET",
    "LIST",
    "ORDER_UPDATED",
    "TYPENAME",
    "add_item_body",
    "body",
    "create_body",
]
