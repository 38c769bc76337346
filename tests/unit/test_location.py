"""The published point and distance bands (app/members/location.py): pure, deterministic, coarse."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from app.members.location import DISTANCE_BANDS, FAR_BAND, distance_band, published_point
from app.missions.matching import distance_km

latitudes = st.floats(min_value=-80, max_value=80, allow_nan=False)
longitudes = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)


@given(latitudes, longitudes)
@example(-80.0, 179.9)  # the last column of a row, narrower than the others (it once wrapped round)
@example(80.0, 179.9)
@example(45.0, -179.9)
def test_the_published_point_is_its_cells_centre_and_near_enough(lat: float, lon: float) -> None:
    centre = published_point(lat, lon, "commune")
    assert published_point(*centre, "commune") == centre, "the centre is in its own cell: saving again leaks nothing"
    assert distance_km(lat, lon, *centre) < 6  # within a commune-sized cell
    coarse = published_point(lat, lon, "departement")
    assert distance_km(lat, lon, *coarse) < 60


def test_no_point_without_coordinates_or_with_precision_none() -> None:
    assert published_point(None, None, "commune") == (None, None)
    assert published_point(45.0, 3.0, "none") == (None, None)


def test_bands_are_coarse_and_cover_every_distance() -> None:
    assert distance_band(None) is None
    assert distance_band(0.0) == "under 10 km"
    assert distance_band(24.99) == "10-25 km" and distance_band(25.0) == "25-50 km"
    assert distance_band(10_000) == FAR_BAND
    assert all(upper >= 10 for upper, _ in DISTANCE_BANDS), "no band finer than a commune-sized cell"
