"""A tiny nearest-centroid classifier with an HTTP inference API, built on the standard library only."""

from .model import NearestCentroid, read_csv, DEFAULT_DATA

__all__ = ["NearestCentroid", "read_csv", "DEFAULT_DATA"]
