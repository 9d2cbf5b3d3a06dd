"""Geodesic distance on the WGS-84 ellipsoid."""
from geopy.distance import geodesic


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the geodesic (WGS-84) distance in metres between two points."""
    return geodesic((lat1, lon1), (lat2, lon2)).meters
