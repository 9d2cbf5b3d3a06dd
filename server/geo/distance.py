"""Geodesic distance on the WGS-84 ellipsoid."""
from geographiclib.geodesic import Geodesic
from geopy.distance import ELLIPSOIDS

# geopy's own ellipsoid (axes in km) and arithmetic, built once: ``geopy.distance.geodesic``
# rebuilds this object on every call, which cost more than the distance itself.
_KM_AXIS, _, _FLATTENING = ELLIPSOIDS["WGS-84"]
_WGS84 = Geodesic(_KM_AXIS, _FLATTENING)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the geodesic (WGS-84) distance in metres between two points."""
    return _WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"] * 1000
