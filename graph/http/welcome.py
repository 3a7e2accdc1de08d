"""What GraphiQL opens with: the page titled "ordergraph", and real operations of this API in
place of Strawberry's generic welcome text (a link with `?q=` still opens its own document)."""

from __future__ import annotations

import json
import re

TITLE = "ordergraph"

# Runs on a new, empty database as it stands; every line of it is checked against the schema
# (tests/graph/http/test_graphiql_welcome.py).
EXAMPLE_DOCUMENT = """\
# ordergraph: orders as events, read through views.
# The docs (the book icon, top left) describe every
# field and argument.
#
# Ctrl-Enter runs the operation the cursor is in;
# the run button asks which one.
#
# NewestOrders: newest placed first. `minPosition`
# makes a read wait until the views have applied
# that position of the event log (say, the
# `position` a mutation returned), so a client
# reads its own writes; without it a read never
# waits. `timeoutMs` bounds the wait; past it the
# answer is what the views hold, and
# `extensions.freshness.stale` is true.
# On a new database the list is empty: run
# PlaceOrder, then this again.
query NewestOrders {
  orders(first: 5, minPosition: 0, timeoutMs: 2000) {
    totalCount
    edges {
      node { id customerId status totalAmount
             createdAt position }
    }
    pageInfo { hasNextPage endCursor }
  }
}

# PlaceOrder: its `position` is the read-your-writes
# token for a read; `order` brings the new order
# back in the same round trip, with its history.
mutation PlaceOrder {
  createOrder(input: {
    customerId: "ada"
    items: [
      { sku: "KB-MECH-87", quantity: 1,
        unitPrice: "89.00" }
      { sku: "CABLE-HDMI-2M", quantity: 2,
        unitPrice: "9.99" }
    ]
    shippingAddress: {
      name: "Ada Lovelace", line1: "12 St James Sq",
      city: "London", postalCode: "SW1Y 4JH",
      country: "GB"
    }
  }) {
    orderId position
    order {
      status totalAmount
      history { type summary occurredAt }
    }
  }
}

# WatchOrders: every change to every order, live
# over the WebSocket. Run it, then place or confirm
# an order (in another tab, or on the page at /).
subscription WatchOrders {
  ordersChanged {
    id status totalAmount updatedAt position
  }
}
"""

_TITLE = re.compile(r"<title>[^<]*</title>")
_EXAMPLE = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)


def script_string(text: str) -> str:
    """`text` as a JavaScript string literal that is safe inside an HTML `<script>`."""
    return json.dumps(text).replace("<", "\\u003c")


def welcome(page: str) -> str:
    """Strawberry's GraphiQL page with ordergraph's title and example operations."""
    page = _TITLE.sub(f"<title>{TITLE}</title>", page, count=1)
    example = f"const EXAMPLE_QUERY = {script_string(EXAMPLE_DOCUMENT)};"
    return _EXAMPLE.sub(lambda _match: example, page, count=1)


__all__ = ["EXAMPLE_DOCUMENT", "TITLE", "script_string", "welcome"]
