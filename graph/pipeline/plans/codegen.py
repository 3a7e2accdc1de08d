"""Writing an object plan as one Python function, so that a field costs an attribute read and a
type check rather than a chain of calls.

`object_runner` turns the `FieldSpec`s the compiler made for one selection into the source of a
function and compiles it once. For `order(id: ...) { status x: id __typename }` the source is:

    def complete_Order(source):
        value = source.status
        if value is None:
            raise PlanFallback(NULL)
        value = serialize_0(value)
        f0 = value
        value = source.id
        if type(value) is not str:
            if value is None:
                raise PlanFallback(NULL)
            value = serialize_1(value)
        f1 = value
        return {'status': f0, 'x': f1, '__typename': 'Order'}

`serialize_0` is the OrderStatus enum's serializer, `serialize_1` ID's (leaves.py); a nested
object or a list is one call to its completer. The source is kept on the plan (`ObjectPlan.source`)
for anyone who wants to read what a document compiled to.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph.pipeline.plans.leaves import Serializer
from graph.pipeline.plans.stats import FallbackReason, PlanFallback

_EXACT_NAMES = {str: "str", bool: "bool", int: "int"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One response key of a selection, as the compiler resolved it.

    Exactly one of `constant` (`__typename`), `serialize` (a leaf), `complete` (a list or an
    object, None included) and `delegated` (graphql-core executes the field; the plan only
    keeps its place) is set. The value is read with `getattr(source, attribute)` when `getter`
    is None (Strawberry's default resolver), with `getter(source)` otherwise.
    """

    key: str
    attribute: str = ""
    getter: Callable[[Any], Any] | None = None
    nullable: bool = True
    exact: type | None = None
    serialize: Serializer | None = None
    complete: Callable[[Any], Any] | None = None
    constant: str | None = None
    delegated: bool = False


def _read(spec: FieldSpec, index: int, namespace: dict[str, Any]) -> str:
    if (
        spec.getter is None
        and spec.attribute.isidentifier()
        and not keyword.iskeyword(spec.attribute)
    ):
        return f"source.{spec.attribute}"
    getter = spec.getter
    if getter is None:
        attribute = spec.attribute

        def getter(source: Any) -> Any:
            return getattr(source, attribute)

    namespace[f"get_{index}"] = getter
    return f"get_{index}(source)"


def _field_lines(spec: FieldSpec, index: int, namespace: dict[str, Any]) -> list[str]:
    """The lines that leave field `index`'s completed value in `f{index}`."""
    target = f"f{index}"
    read = _read(spec, index, namespace)
    if spec.complete is not None:
        namespace[f"complete_{index}"] = spec.complete
        return [f"    {target} = complete_{index}({read})"]
    assert spec.serialize is not None
    namespace[f"serialize_{index}"] = spec.serialize
    exact = _EXACT_NAMES.get(spec.exact) if spec.exact is not None else None
    if spec.exact is not None and exact is None:
        namespace[f"exact_{index}"] = spec.exact
        exact = f"exact_{index}"
    serialize = f"value = serialize_{index}(value)"
    lines = [f"    value = {read}"]
    if spec.nullable:  # None stays None (graphql-core's null)
        condition = "value is not None"
        if exact is not None:
            condition = f"type(value) is not {exact} and {condition}"
        lines += [f"    if {condition}:", f"        {serialize}"]
    elif exact is None:  # None is the non-null error graphql-core reports itself
        lines += ["    if value is None:", "        raise PlanFallback(NULL)", f"    {serialize}"]
    else:
        lines += [
            f"    if type(value) is not {exact}:",
            "        if value is None:",
            "            raise PlanFallback(NULL)",
            f"        {serialize}",
        ]
    lines.append(f"    {target} = value")
    return lines


def object_runner(
    type_name: str, specs: tuple[FieldSpec, ...]
) -> tuple[Callable[[Any], dict[str, Any]], str]:
    """The compiled function completing one selection on `type_name`, and its source."""
    namespace: dict[str, Any] = {
        "PlanFallback": PlanFallback,
        "NULL": FallbackReason.NULL_IN_NON_NULL,
    }
    name = f"complete_{type_name}" if type_name.isidentifier() else "complete_object"
    lines = [f"def {name}(source):"]
    entries = []
    for index, spec in enumerate(specs):
        if spec.constant is not None:  # __typename
            entries.append(f"{spec.key!r}: {spec.constant!r}")
            continue
        if spec.delegated:  # a placeholder, replaced by the executor
            entries.append(f"{spec.key!r}: None")
            continue
        lines.extend(_field_lines(spec, index, namespace))
        entries.append(f"{spec.key!r}: f{index}")
    lines.append(f"    return {{{', '.join(entries)}}}")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<plan {type_name}>", "exec"), namespace)
    run: Callable[[Any], dict[str, Any]] = namespace[name]
    return run, source


__all__ = ["FieldSpec", "object_runner"]
