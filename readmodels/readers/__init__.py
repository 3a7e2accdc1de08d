"""Query handlers, one module per view: each reads view tables only and answers with DTOs."""

from __future__ import annotations

from readmodels.readers.changed import orders_changed_since
from readmodels.readers.customers import get_customer, get_customers, get_customers_by_id
from readmodels.readers.order_pages import list_order_pages, list_orders, list_orders_batch
from readmodels.readers.orders import get_order, get_orders, get_orders_by_id, order_from_row
from readmodels.readers.sales import get_sales_report

__all__ = [
    "get_customer",
    "get_customers",
    "get_customers_by_id",
    "get_order",
    "get_orders",
    "get_orders_by_id",
    "get_sales_report",
    "list_order_pages",
    "list_orders",
    "list_orders_batch",
    "order_from_row",
    "orders_changed_since",
]
