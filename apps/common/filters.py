"""Filter building blocks shared by every app's filtersets."""

from datetime import UTC

import django_filters
from django import forms
from django.db import models

TEXT_LOOKUPS = ["exact", "in", "icontains", "istartswith"]
RANGE_LOOKUPS = ["exact", "in", "gt", "gte", "lt", "lte"]
DATE_LOOKUPS = ["exact", "gt", "gte", "lt", "lte", "isnull"]
INTEGER_FIELDS = (
    models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField, models.BigIntegerField,
    models.SmallIntegerField, models.PositiveIntegerField, models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)  # fmt: skip


class BoundedIntegerField(forms.IntegerField):
    """An integer in the 64-bit range every database can bind: larger values are a 400, not a database error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    field_class = BoundedIntegerField


class UTCDateTimeField(forms.DateTimeField):
    """A datetime converted to UTC before it reaches the database: PostgreSQL refuses offsets past ±15:59, and a
    moment that UTC cannot express (before year 1) is a 400."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Enter a datetime between years 1 and 9999 in UTC.", code="invalid") from exc


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class BaseFilterSet(django_filters.FilterSet):
    """Integer columns filter on whole numbers in the 64-bit range."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        **{field_class: {"filter_class": IntegerFilter} for field_class in INTEGER_FIELDS},
        models.DateTimeField: {"filter_class": DateTimeFilter},
    }


def _lookups_for(field: models.Field) -> list[str]:
    if isinstance(field, models.BooleanField):
        return ["exact"]
    if isinstance(field, models.DateTimeField | models.DateField):
        return DATE_LOOKUPS
    if isinstance(field, models.IntegerField | models.FloatField):
        return [*RANGE_LOOKUPS, "isnull"] if field.null else RANGE_LOOKUPS
    if isinstance(field, models.UUIDField):
        return ["exact", "in"]
    return TEXT_LOOKUPS


def scalar_filter_fields(model: type[models.Model], *, exclude: set[str]) -> dict[str, list[str]]:
    """Every concrete non-relation column of `model` with the lookups that fit its type (JSON columns excepted)."""
    return {
        field.name: _lookups_for(field)
        for field in model._meta.concrete_fields
        if not field.is_relation and field.name not in exclude and not isinstance(field, models.JSONField)
    }
