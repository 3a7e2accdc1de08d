"""The one mapping from errors to `extensions.code`, and the masking of everything unexpected.

- A domain error keeps its message and gets its contract code (and `field` when it names one).
- An error of the request itself (syntax, validation, a variable or scalar the client sent
  wrong: no path, no exception behind it) is BAD_USER_INPUT.
- Anything else is INTERNAL_SERVER_ERROR with a generic message and the request's
  `correlationId`; its details go to the log under that id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from graphql.validation.validate import ValidationAbortedError

from domain.errors import DomainError, ValidationFailed
from graph.api.limits import ABORTED_MESSAGE
from graph.http.auth import AuthenticationError

if TYPE_CHECKING:
    from strawberry.types import ExecutionContext

log = logging.getLogger("ordergraph.graph")

BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
UNAUTHENTICATED = "UNAUTHENTICATED"
INTERNAL_MESSAGE = "Internal server error"


def _root_cause(error: GraphQLError) -> BaseException | None:
    """The first exception behind `error` that is not itself a GraphQLError."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause


def classify(error: GraphQLError, correlation_id: str | None) -> None:
    """Give `error` its code in place; mask its message when it was not expected."""
    extensions: dict[str, Any] = dict(error.extensions or {})
    if extensions.get("code"):
        return
    cause = _root_cause(error)
    if isinstance(error, ValidationAbortedError):
        extensions["code"] = QUERY_TOO_COMPLEX
        if error.message == "Validation aborted.":  # the field-merging budget ran out
            error.message = ABORTED_MESSAGE
    elif isinstance(cause, AuthenticationError):
        extensions["code"] = UNAUTHENTICATED
        error.message = str(cause)
    elif isinstance(cause, DomainError):
        extensions["code"] = str(cause.code)
        if isinstance(cause, ValidationFailed) and cause.field is not None:
            extensions["field"] = cause.field
        error.message = cause.message
    elif cause is None and error.path is None:
        extensions["code"] = BAD_USER_INPUT
    else:
        log.error(
            "unexpected error (correlation id %s) at %s: %s",
            correlation_id,
            error.path,
            error.message,
            exc_info=cause if cause is not None else error,
        )
        extensions = {"code": INTERNAL_SERVER_ERROR, "correlationId": correlation_id}
        error.message = INTERNAL_MESSAGE
        error.original_error = None
    error.extensions = extensions


def process_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Code every error of one result (Strawberry's `process_errors` hook)."""
    context = None if execution_context is None else execution_context.context
    correlation_id = getattr(context, "correlation_id", None)
    for error in errors:
        classify(error, correlation_id)


__all__ = ["BAD_USER_INPUT", "INTERNAL_SERVER_ERROR", "classify", "process_errors"]
