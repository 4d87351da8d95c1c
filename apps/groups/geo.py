"""Great-circle distance and bounding boxes on the plain latitude/longitude columns, on PostgreSQL and SQLite alike
(Django's math functions; SQLite runs them as registered functions). No PostGIS: the box prefilter is a range on the
indexed columns, split where it crosses the antimeridian and widened to every longitude where it holds a pole."""

import math
from dataclasses import dataclass

from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ASin, Cos, Greatest, Least, Power, Radians, Sin, Sqrt

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG), the one the test oracle uses too
# Widens every box a little, so that a point on its exact edge is never lost to rounding before the exact test.
EDGE_DEGREES = 1e-9


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def distance_expression(center: Point) -> CombinedExpression | Case:
    """Haversine distance in metres from `center` to each row's (latitude, longitude); null where either is null.
    The haversine term is clamped to [0, 1] so that rounding never takes ASin out of its domain."""
    lat1, lon1 = math.radians(center.latitude), math.radians(center.longitude)
    half_dlat = (Radians(F("latitude")) - Value(lat1)) / Value(2.0)
    half_dlon = (Radians(F("longitude")) - Value(lon1)) / Value(2.0)
    term = Power(Sin(half_dlat), 2) + Value(math.cos(lat1)) * Cos(Radians(F("latitude"))) * Power(Sin(half_dlon), 2)
    clamped = Least(Greatest(term, Value(0.0)), Value(1.0))
    distance = Value(2.0 * EARTH_RADIUS_M) * ASin(Sqrt(clamped))
    # PostgreSQL's LEAST/GREATEST skip nulls, so null coordinates are kept out explicitly.
    return Case(
        When(latitude__isnull=False, longitude__isnull=False, then=distance), default=None, output_field=FloatField()
    )


def longitude_range(west: float, east: float) -> Q:
    """Longitudes from `west` eastwards to `east`; across the antimeridian when west > east."""
    if west <= east:
        return Q(longitude__gte=west - EDGE_DEGREES, longitude__lte=east + EDGE_DEGREES)
    return Q(longitude__gte=west - EDGE_DEGREES) | Q(longitude__lte=east + EDGE_DEGREES)


def box_filter(*, north: float, west: float, south: float, east: float) -> Q:
    """Rows inside the box; `west` > `east` means the box crosses the antimeridian."""
    south, north = min(south, north), max(south, north)
    latitudes = Q(latitude__gte=south - EDGE_DEGREES, latitude__lte=north + EDGE_DEGREES)
    return latitudes & longitude_range(west, east)


def within_box(center: Point, metres: float) -> Q:
    """A box of indexed ranges holding every point within `metres` of `center` (a spherical cap's bounds)."""
    radius = metres / EARTH_RADIUS_M
    if radius >= math.pi:
        return Q(latitude__isnull=False, longitude__isnull=False)
    lat = math.radians(center.latitude)
    south, north = math.degrees(lat - radius), math.degrees(lat + radius)
    if north >= 90 or south <= -90:  # the cap holds a pole: every longitude, latitudes up to the pole
        latitudes = Q(latitude__gte=max(south, -90) - EDGE_DEGREES, latitude__lte=min(north, 90) + EDGE_DEGREES)
        return latitudes & Q(longitude__isnull=False)
    spread = math.degrees(math.asin(min(1.0, math.sin(radius) / math.cos(lat))))
    west, east = center.longitude - spread, center.longitude + spread
    if west < -180:
        west += 360
    if east > 180:
        east -= 360
    latitudes = Q(latitude__gte=south - EDGE_DEGREES, latitude__lte=north + EDGE_DEGREES)
    return latitudes & longitude_range(west, east)
