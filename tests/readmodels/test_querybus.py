"""The query bus answers every query the read side defines, each reader found once."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from readmodels import queries
from readmodels.dto import ProjectionStatus
from readmodels.querybus import build_query_bus
from readmodels.readers import orders
from readmodels.readers.answers import Answers
from readmodels.registry import reader_answers


class _NoRunner:
    def status(self) -> list[ProjectionStatus]:
        return []


def test_every_query_of_the_read_side_has_a_handler() -> None:
    defined = {
        value
        for value in vars(queries).values()
        if inspect.isclass(value)
        and issubclass(value, queries.Query)
        and value is not queries.Query
    }
    no_database: Any = None  # no query is asked
    no_runner: Any = _NoRunner()
    bus = build_query_bus(no_database, no_runner, reader_answers())
    answered = bus._handlers.keys() | bus._readers.keys()
    assert sorted(q.__name__ for q in defined if q not in answered) == []


def test_a_query_answered_by_two_reader_modules_is_refused() -> None:
    twice: Answers = {queries.GetOrder: orders.get_order}
    with pytest.raises(ValueError, match="GetOrder is answered twice"):
        reader_answers((orders.ANSWERS, twice))
