"""Fields whose resolver is a coroutine function are resolved inside their own coroutine.

graphql-core's `execute_field` calls the resolver at once and hands the coroutine it returns to
another coroutine (`complete_awaitable_value`) that awaits it later. When that second coroutine
is cancelled before it starts (a sibling field failed and `gather_with_cancel` cancelled the
rest, or an outer gather was cancelled), the resolver's coroutine, never awaited, is dropped:
CPython warns "coroutine ... was never awaited", and the fuzz and differential runs saw it (8-36
times in 2,000 generated documents, some sharing the root with a refusal such as
`orders(first: 0)`). Here the resolver is called as the first step of the field's coroutine, so a
field cancelled before it starts has created nothing; its answer is the same.
"""

from __future__ import annotations

from inspect import iscoroutinefunction
from typing import Any

from graphql import GraphQLField, GraphQLObjectType
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path


def resolves_in_a_coroutine(field: GraphQLField) -> bool:
    """Whether the field's resolver is a coroutine function (Strawberry's async resolvers)."""
    return field.resolve is not None and iscoroutinefunction(field.resolve)


class CoroutineSafeExecutor(Executor[Any]):
    """graphql-core's executor, its async fields resolved inside their own coroutine."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: list[FieldDetails],
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        field = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        if field is None or self.middleware_manager or not resolves_in_a_coroutine(field):
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        return self._execute_async_field(
            field, parent_type, source, field_details_list, path, position_context
        )

    async def _execute_async_field(
        self,
        field: GraphQLField,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: list[FieldDetails],
        path: Path,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_field` and `complete_awaitable_value` in one coroutine."""
        nodes = [details.node for details in field_details_list]
        info = self.build_resolve_info(field, nodes, parent_type, path)
        try:
            first = field_details_list[0]
            args = (
                get_argument_values(
                    field,
                    first.node,
                    self.variable_values,
                    first.fragment_variable_values,
                    self.hide_suggestions,
                )
                if field.args or first.node.arguments
                else {}
            )
            assert field.resolve is not None
            resolved = await self.with_abort_signal(field.resolve(source, info, **args))
            completed = self.complete_value(
                field.type, field_details_list, info, path, resolved, position_context
            )
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        return completed


__all__ = ["CoroutineSafeExecutor", "resolves_in_a_coroutine"]
