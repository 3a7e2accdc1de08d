"""The one mapping from errors to `extensions.code`, and the masking of everything unexpected.

- A domain error keeps its message and gets its contract code (and `field` when it names one).
- An error of the request itself (syntax, validation, a variable or scalar the client sent
  wrong: no path, no exception behind it) is BAD_USER_INPUT; so is a literal or variable that
  a scalar cannot even convert (an integer of thousands of digits), and an `operationName`
  the document does not define.
- An input that fails to coerce (a variable's value, or a literal argument or variable default
  in the document) also gets `field`, named as the domain's rules name it: the path of the bad
  value inside the input object (`items[0].unitPrice`, `shippingAddress`), or, when the value
  is not inside an object, the argument's or variable's own name (`minPosition`, `ids[1]`).
  graphql-core reports a variable's bad value with its path in the message; a literal's place
  is found by parsing the request's document once more (once per call of `code_errors`).
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

from graphql import (
    SKIP,
    ArgumentNode,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    Source,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    visit,
)
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
# graphql-core's messages for a variable's value that does not coerce (execution/values.py).
_VARIABLE_ERROR = re.compile(
    r"Variable '\$(?P<name>[_A-Za-z][_0-9A-Za-z]*)' (?:has invalid (?:default )?value"
    r"(?: at (?P<path>[^:]+))?:|of (?:required|non-null) type )"
)
# An input object's field that is missing or unknown, named in the message of the object's error.
_OBJECT_FIELD = re.compile(
    r"(?:to include required field|not to include unknown field) '(?P<name>[_A-Za-z][_0-9A-Za-z]*)'"
    r"|^Field '[_A-Za-z][_0-9A-Za-z]*\.(?P<literal>[_A-Za-z][_0-9A-Za-z]*)' of required type"
)


def _root_cause(error: GraphQLError) -> BaseException | None:
    """The first exception behind `error` that is not itself a GraphQLError."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause


def classify(
    error: GraphQLError, correlation_id: str | None, inputs: RequestInputs | None = None
) -> None:
    """Give `error` its code in place; mask its message when it was not expected. `inputs`
    finds the literal an input error is about (one is made when not given)."""
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
        _name_the_input(error, extensions, inputs or RequestInputs())
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
        _name_the_input(error, extensions, inputs or RequestInputs())
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


def _name_the_input(error: GraphQLError, extensions: dict[str, Any], inputs: RequestInputs) -> None:
    """Set `field` when `error` is about an input that did not coerce."""
    variable = _VARIABLE_ERROR.match(error.message)
    if variable is not None:
        path = variable["path"] or ""
        field: str | None = _field_name(variable["name"], path + _object_field(error.message))
    else:
        field = inputs.literal_field(error)
    if field is not None:
        extensions["field"] = field


def _object_field(message: str) -> str:
    """`.carrier` when `message` is about a missing or unknown field `carrier` of an object."""
    named = _OBJECT_FIELD.search(message)
    return "" if named is None else f".{named['name'] or named['literal']}"


def _field_name(name: str, path: str) -> str:
    """`.items[0].unitPrice` inside `input` is `items[0].unitPrice`; `[1]` inside `ids` is
    `ids[1]`; nothing inside `minPosition` is `minPosition`."""
    return path[1:] if path.startswith(".") else name + path


class RequestInputs:
    """The inputs written in requests' documents (arguments and variable defaults), each parsed
    once, to find which one a literal that failed to coerce belongs to."""

    def __init__(self) -> None:
        self._documents: dict[str, list[tuple[str, ValueNode]]] = {}

    def literal_field(self, error: GraphQLError) -> str | None:
        """The `field` of an error about a literal of the document (None for other errors)."""
        node = error.nodes[0] if error.nodes else None
        if (
            not isinstance(node, ValueNode | ObjectFieldNode)
            or isinstance(node, VariableNode)
            or node.loc is None
        ):
            return None
        span = (node.loc.start, node.loc.end)
        for name, value in self._inputs(node.loc.source):
            path = _path_to(value, span)
            if path is not None:
                keys = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)
                if isinstance(node, ObjectValueNode):  # the object names its missing field
                    keys += _object_field(error.message)
                return _field_name(name, keys)
        return None

    def _inputs(self, source: Source) -> list[tuple[str, ValueNode]]:
        found = self._documents.get(source.body)
        if found is None:
            found = self._documents[source.body] = []
            try:
                document = parse(source)
            except GraphQLError:
                return found
            visit(document, _InputCollector(found))
        return found


class _InputCollector(Visitor):
    """(name, value) of every argument and variable default value of a document."""

    def __init__(self, found: list[tuple[str, ValueNode]]) -> None:
        super().__init__()
        self.found = found

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> object:
        self.found.append((node.name.value, node.value))
        return SKIP

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> object:
        if node.default_value is not None:
            self.found.append((node.variable.name.value, node.default_value))
        return SKIP


def _path_to(value: ValueNode, span: tuple[int, int]) -> list[str | int] | None:
    """The keys and indices from `value` down to the node at `span`, or None if not inside."""
    loc = value.loc
    if loc is None or not (loc.start <= span[0] and span[1] <= loc.end):
        return None
    if (loc.start, loc.end) == span:
        return []
    if isinstance(value, ObjectValueNode):
        for field in value.fields:
            if field.loc is not None and (field.loc.start, field.loc.end) == span:
                return [field.name.value]
            inner = _path_to(field.value, span)
            if inner is not None:
                return [field.name.value, *inner]
    elif isinstance(value, ListValueNode):
        for index, item in enumerate(value.values):
            inner = _path_to(item, span)
            if inner is not None:
                return [index, *inner]
    return None


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
    inputs = RequestInputs()
    for error in errors:
        classify(error, correlation_id, inputs)
        if production:
            strip_suggestions(error)


__all__ = [
    "BAD_USER_INPUT",
    "INTERNAL_SERVER_ERROR",
    "REBUILD_IN_PROGRESS",
    "RebuildInProgress",
    "RequestInputs",
    "classify",
    "code_errors",
    "strip_suggestions",
]
