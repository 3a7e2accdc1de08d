"""GET /metrics: the service's metrics in Prometheus' text format.

With a signing secret (authentication on, as in production) a scrape needs an admin's bearer
token: 401 without valid credentials, 403 for another role. Prometheus sends one with
`authorization: {type: Bearer, credentials_file: ...}` in its scrape config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import JSONResponse, Response

from graph.api.identity import AuthenticationError, Role

if TYPE_CHECKING:
    from starlette.requests import Request

    from graph.http.auth import TokenAuthority
    from graph.observe.metrics import Metrics


class MetricsRoute:
    """The /metrics endpoint over one registry; `authority` set: admins only."""

    def __init__(self, metrics: Metrics, authority: TokenAuthority | None) -> None:
        self.metrics = metrics
        self.authority = authority

    async def respond(self, request: Request) -> Response:
        if self.authority is not None:
            refusal = _refusal(self.authority, request.headers.get("authorization"))
            if refusal is not None:
                return refusal
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _refusal(authority: TokenAuthority, authorization: str | None) -> Response | None:
    """401 or 403 unless `authorization` carries a valid admin token."""
    try:
        caller = authority.from_authorization(authorization)
    except AuthenticationError as error:
        return _error(401, "UNAUTHENTICATED", str(error), {"www-authenticate": "Bearer"})
    if caller.role is not Role.ADMIN:
        return _error(403, "FORBIDDEN", f"the {caller.role.value} role may not read /metrics")
    return None


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


__all__ = ["MetricsRoute"]
