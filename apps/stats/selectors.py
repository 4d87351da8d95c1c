"""Counts over the one group table, for the CKAN-style stats actions."""

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from apps.groups.models import Group
from apps.stats.query import Condition, GroupCountQuery

LOOKUPS = {"=": "exact", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte", "like": "like"}


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


def group_count(*, query: GroupCountQuery) -> int:
    return group_count_queryset(query=query).count()
