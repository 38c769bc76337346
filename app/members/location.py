"""Where a member says they are, at the precision they chose to publish, and how far away that is.

Owns the coarsening of a member's point (a grid cell about the size of a commune, or of a
département) and the distance bands the API answers with. The exact point a member types is never
stored: what the database holds, what distances are computed on and what search and matching
answer with are all derived from the cell's centre, so no number of queries (trilateration from
several vantage points, bisection on `within_km`) can recover more than the cell. Never touches the
database or HTTP.
"""

from __future__ import annotations

import math
from enum import StrEnum


class LocationPrecision(StrEnum):
    COMMUNE = "commune"  # a cell of about 5.5 km: the size of a French commune, give or take
    DEPARTEMENT = "departement"  # a cell of about 55 km: the size of a département
    NONE = "none"  # no point at all: distances fall back to the region and country


# Cell heights in degrees of latitude; widths in longitude are scaled so cells stay roughly square.
CELL_DEGREES = {LocationPrecision.COMMUNE: 0.05, LocationPrecision.DEPARTEMENT: 0.5}
DEFAULT_PRECISION = LocationPrecision.COMMUNE

# (upper bound in km, label); the last band is open-ended. Coarser than the smallest cell, so the
# band never says more than the published point does.
DISTANCE_BANDS: tuple[tuple[float, str], ...] = (
    (10, "under 10 km"),
    (25, "10-25 km"),
    (50, "25-50 km"),
    (100, "50-100 km"),
    (200, "100-200 km"),
    (500, "200-500 km"),
)
FAR_BAND = "over 500 km"


def published_point(
    latitude: float | None, longitude: float | None, precision: LocationPrecision | str
) -> tuple[float | None, float | None]:
    """The centre of the grid cell holding the point; None, None when nothing is published.

    Deterministic: the same cell always gives the same centre, so saving the profile again with a
    slightly different point reveals nothing new (no averaging of noisy answers).
    """
    precision = LocationPrecision(precision)
    if latitude is None or longitude is None or precision is LocationPrecision.NONE:
        return None, None
    height = CELL_DEGREES[precision]
    row = math.floor((latitude + 90) / height)
    centre_lat = min(90.0, -90 + (row + 0.5) * height)
    # Wider cells in longitude away from the equator keep them about as wide as they are high.
    width = min(360.0, height / max(math.cos(math.radians(centre_lat)), 0.05))
    column = math.floor((longitude + 180) / width)
    # 360° is rarely a whole number of widths: the last column of a row stops at the antimeridian,
    # and its centre is the middle of what it covers (a centre past 180° wrapped round into another
    # cell, so saving the published point again moved it).
    west = -180 + column * width
    centre_lon = (west + min(180.0, west + width)) / 2
    return round(centre_lat, 6), round(centre_lon, 6)


def distance_band(km: float | None) -> str | None:
    if km is None:
        return None
    for upper, label in DISTANCE_BANDS:
        if km < upper:
            return label
    return FAR_BAND
