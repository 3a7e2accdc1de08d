"""The one mapping from errors to `extensions.code`, and the masking of everything unexpected.

- A domain error keeps its message and gets its contract code (and `field` when it names one).
- An error of the request itself (syntax, validation, a variable or scalar the client sent
  wrong: no path, no exception behind it) is BAD_USER_INPUT; so is a literal or variable that
  a scalar cannot even convert (an integer of thousands of digits), and an `operationName`
  the document does not define.
- A rebuild asked for while one of the same projection runs is REBUILD_IN_PROGRESS.
- In production no message carries a suggestion ("Did you mean ...?"): field, argument, enum
  value, type and input-field names of the schema stay unlisted.
- Anything else is INTERNAL_SERVER_ERROR with a generic message and the request's
  `correlationId`; its details go to the log under that id.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError
from graphql.validation.validate import ValidationAbortedError

from domain.errors import DomainError, ValidationFailed
from graph.api.identity import AuthenticationError
from graph.api.mutations.rebuild_projection import RebuildInProgress
from graph.pipeline.limits import ABORTED_MESSAGE

log = logging.getLogger("ordergraph.graph")

BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
UNAUTHENTICATED = "UNAUTHENTICATED"
REBUILD_IN_PROGRESS = "REBUILD_IN_PROGRESS"
INTERNAL_MESSAGE = "Internal server error"
# graphql-core's `did_you_mean`: " Did you mean 'a', 'b', or the enum value 'c'?".
_SUGGESTION = re.compile(r" Did you mean (?:[a-z ]+ )?'[^']*'(?:,? (?:or )?'[^']*')*\?")
_MAX_ECHO_CHARS = 200


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
    elif error.path is None and error.nodes and isinstance(cause, ValueError | ArithmeticError):
        # A scalar could not convert a literal of the document at all (int() of 5,000 digits);
        # without a node in the document it is no client's doing.
        extensions["code"] = BAD_USER_INPUT
        error.message = _coercion_message(error.message)
        error.original_error = None
    elif isinstance(cause, RebuildInProgress):
        extensions["code"] = REBUILD_IN_PROGRESS
        error.message = str(cause)
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


def _coercion_message(message: str) -> str:
    """graphql-core's "Expected value of type 'Int', but encountered error '...'; found: ...",
    without the Python exception's text and the (possibly huge) literal."""
    head = message.split(", but encountered error", 1)[0][:_MAX_ECHO_CHARS]
    return f"{head}: the value is out of range for its type"


def strip_suggestions(error: GraphQLError) -> None:
    """Drop every "Did you mean ...?" from `error`'s message."""
    error.message = _SUGGESTION.sub("", error.message)


def code_errors(errors: list[GraphQLError], context: object) -> None:
    """`process_errors` for the resolvers' `context` (the request's Context, or None)."""
    correlation_id = getattr(context, "correlation_id", None)
    production = bool(getattr(getattr(context, "settings", None), "production", False))
    for error in errors:
        classify(error, correlation_id)
        if production:
            strip_suggestions(error)


__all__ = [
    "BAD_USER_INPUT",
    "INTERNAL_SERVER_ERROR",
    "REBUILD_IN_PROGRESS",
    "classify",
    "code_errors",
    "strip_suggestions",
]
