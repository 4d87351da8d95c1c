"""Lookups of our own.

`like`: SQL LIKE with the client's own wildcards (`%`, `_`, backslash escapes), case-sensitive on every database.
PostgreSQL's LIKE is case-sensitive; SQLite's is not, so there the pattern becomes the equivalent GLOB.

`any_of`: `__in` for integer fields given thousands of values, bound as one array on PostgreSQL and looked up
through the field's index; `few_ids` and `id_lookups` bound them.
"""

from collections.abc import Iterable, Iterator
from typing import TypeVar

import polars as pl
from django.db.models import CharField, IntegerField, Lookup, QuerySet, TextField
from django.db.models.lookups import In

ID_LOOKUP_SIZE = 5_000  # ids bound in one lookup (SQLite caps a statement's parameters at 32,766)
Q = TypeVar("Q", bound=QuerySet)

GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


def like_to_glob(pattern: str) -> str:
    out, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "\\")
            out.append(GLOB_SPECIAL.get(escaped, escaped))
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(GLOB_SPECIAL.get(char, char))
    return "".join(out)


class Like(Lookup):
    lookup_name = "like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} GLOB {rhs}", [*lhs_params, *[like_to_glob(param) for param in rhs_params]]


CharField.register_lookup(Like)
TextField.register_lookup(Like)


class AnyOf(In):
    """`field__any_of=[ints]`: as `__in`, but on PostgreSQL `field IN (SELECT unnest(%s::bigint[]))` with the values
    as one parameter, where `__in` prepares and binds each (milliseconds per thousand values, which the id lookups
    of a night's learners spent). Unnested, the values are estimated at 200 distinct (the planner has no statistics
    on them), so that it looks each up through the field's index; given as `= ANY(array)` it scanned the whole
    table in parallel instead, three times slower for a night's 2,400 learners, and slower still as the table
    grows. The callers bound the values (ID_LOOKUP_SIZE)."""

    lookup_name = "any_of"

    def get_prep_lookup(self):
        # None matches nothing: dropped, as `__in` drops it.
        return [int(value) for value in self.rhs if value is not None]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT unnest(%s::bigint[]))", [*lhs_params, self.rhs]


IntegerField.register_lookup(AnyOf)


def few_ids(*, ids: pl.Series) -> list[int] | None:
    """The distinct `ids` when they are at most ID_LOOKUP_SIZE, to be looked up by id (`any_of`); None when they
    are more (the caller then reads every row, cheaper than binding them all)."""
    distinct = ids.unique().to_list()
    return distinct if len(distinct) <= ID_LOOKUP_SIZE else None


def id_lookups(queryset: Q, *, lookup: str, ids: Iterable) -> Iterator[Q]:
    """`queryset` filtered by `lookup` (`field__in`, `field__any_of`) to `ids`, at most ID_LOOKUP_SIZE ids a query;
    one query of no ids when there are none, so that the caller always has one result to concatenate (Django answers
    it without a query)."""
    ids = list(ids)
    for start in range(0, max(len(ids), 1), ID_LOOKUP_SIZE):
        yield queryset.filter(**{lookup: ids[start : start + ID_LOOKUP_SIZE]})
