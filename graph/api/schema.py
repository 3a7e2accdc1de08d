"""The GraphQL schema as Strawberry builds it from the types and resolvers of this package.

Strawberry owns the schema: the types, the resolvers, input conversion and the SDL export.
Running operations is the pipeline's (graph/pipeline/), on the graphql-core schema Strawberry
built (`graphql_schema`).
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLSchema
from strawberry.schema.config import StrawberryConfig

from graph.api.mutations import Mutation
from graph.api.query import Query
from graph.api.scalars import SCALAR_MAP
from graph.api.subscription import Subscription


def build_schema(*, production: bool = False) -> strawberry.Schema:
    """The service's schema; in production no validation message suggests a name."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production),
    )


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (the one place its attribute is read: the
    Strawberry versions `pyproject.toml` allows are the ones the suite has run on)."""
    built = schema._schema
    assert isinstance(built, GraphQLSchema)
    return built


def export_sdl(schema: strawberry.Schema | None = None) -> str:
    """The schema in SDL, as written to schema.graphql."""
    return (schema or build_schema()).as_str() + "\n"


__all__ = ["build_schema", "export_sdl", "graphql_schema"]
