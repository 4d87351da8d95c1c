"""Counts over the one group table, for the CKAN-style stats actions."""

from collections.abc import Callable
from functools import cache, reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import Field, Q, QuerySet

from apps.common.lookups import like_to_glob
from apps.groups.models import Group
from apps.stats.query import Condition, GroupCountQuery

LOOKUPS = {"=": "exact", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte", "like": "like"}
# Which end of a whole day each operator compares with, in the order _day_q binds them.
DAY_BOUNDS = {"=": (0, 1), "!": (0, 1), "<": (0,), "<=": (1,), ">": (1,), ">=": (0,)}
# Compiled statements are kept per query shape; clients send few shapes, and a flood of new ones only empties this.
MAX_COMPILED_SHAPES = 512
# A shape maps to its statement, or to "" when the ORM binds it differently from _parameters.
_compiled: dict[tuple, str] = {}


def _day_q(path: str, operator: str, start, end) -> Q:
    """A condition against a whole day [start, end) of a datetime column, as ranges an index can serve."""
    within = Q(**{f"{path}__gte": start, f"{path}__lt": end})
    return {
        "=": within,
        "!": ~within,
        "<": Q(**{f"{path}__lt": start}),
        "<=": Q(**{f"{path}__lt": end}),
        ">": Q(**{f"{path}__gte": end}),
        ">=": Q(**{f"{path}__gte": start}),
    }[operator]


def _condition_q(condition: Condition) -> Q:
    path, operator, value = condition.column.path, condition.operator, condition.value
    if value is None:
        return Q(**{f"{path}__isnull": operator == "="})
    if isinstance(value, tuple):
        return _day_q(path, operator, *value)
    if operator == "!":
        return ~Q(**{path: value})
    return Q(**{f"{path}__{LOOKUPS[operator]}": value})


def group_count_queryset(*, query: GroupCountQuery) -> QuerySet[Group]:
    """Groups whose date column falls in [start, end), matching every query_group (each an OR of conditions).

    Every group counts, deleted ones too, unless a condition on `state` says otherwise.
    """
    groups = Group.objects.filter(**{f"{query.date_path}__gte": query.start, f"{query.date_path}__lt": query.end})
    for conditions in query.query_groups:
        groups = groups.filter(reduce(or_, (_condition_q(condition) for condition in conditions)))
    return groups


@cache
def _field(path: str) -> Field:
    model, *relations, name = [Group, *path.split("__")]
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _value_shape(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value  # the ORM writes a boolean condition as the column itself or its negation, with no parameter
    return type(value)


def _shape(query: GroupCountQuery) -> tuple:
    """What decides the SQL of a query: the columns, operators and kinds of value; never the values themselves."""
    conditions = tuple(
        tuple((c.column.path, c.operator, _value_shape(c.value)) for c in group) for group in query.query_groups
    )
    return connection.alias, connection.vendor, query.date_path, conditions


def _parameters(query: GroupCountQuery) -> list:
    """The statement's parameters, in the order the ORM binds them, prepared as it prepares them."""

    def prepared(path: str, value: Any) -> Any:
        return _field(path).get_db_prep_value(value, connection, prepared=False)

    parameters = [prepared(query.date_path, query.start), prepared(query.date_path, query.end)]
    for group in query.query_groups:
        for condition in group:
            path, operator, value = condition.column.path, condition.operator, condition.value
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, tuple):
                parameters += [prepared(path, value[bound]) for bound in DAY_BOUNDS[operator]]
            elif operator == "like" and connection.vendor == "sqlite":
                parameters.append(like_to_glob(value))
            else:
                parameters.append(prepared(path, value))
    return parameters


def _count_compiling(query: GroupCountQuery, shape: tuple) -> int:
    """Counts through the ORM and keeps its statement for the shape when the parameters prepared here are the very
    ones it bound (a shape whose binding differs is never kept, and keeps going through the ORM)."""
    statements: list[tuple[str, list]] = []

    def record(execute: Callable, sql: str, params, many: bool, context: dict):
        statements.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        count = group_count_queryset(query=query).count()
    kept = statements[0][0] if len(statements) == 1 and statements[0][1] == _parameters(query) else ""
    if len(_compiled) >= MAX_COMPILED_SHAPES:
        _compiled.clear()
    _compiled[shape] = kept
    return count


def group_count(*, query: GroupCountQuery) -> int:
    """The count of group_count_queryset. Building and compiling the ORM query costs as much as running it on a
    small table, so each shape is compiled once and later queries of that shape only bind their values."""
    shape = _shape(query)
    sql = _compiled.get(shape)
    if sql is None:
        return _count_compiling(query, shape)
    if not sql:
        return group_count_queryset(query=query).count()
    with connection.cursor() as cursor:
        cursor.execute(sql, _parameters(query))
        return cursor.fetchone()[0]
