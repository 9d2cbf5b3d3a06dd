"""Pure geometry: geodesic distances and GCJ-02 → WGS-84 conversion."""
from .distance import distance_m, most_distance_m
from .gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

__all__ = ["distance_m", "most_distance_m", "gcj02_to_wgs84", "wgs84_to_gcj02"]
