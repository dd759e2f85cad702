"""Nearest-centroid classification: each class is the mean of its training rows, scaled per feature.

Features are standardised with the training set's mean and standard deviation, so a feature in grams does not drown
one between 0 and 1. The model is plain JSON: readable, diffable and loadable without pickle.
"""

import csv
import json
import math
import os

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "fruits.csv")


def read_csv(path, label_column="label"):
    """Reads a CSV with a header: returns (feature names, rows of floats, labels). Raises ValueError on bad input."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or label_column not in reader.fieldnames:
            raise ValueError(f"{path}: no '{label_column}' column in the header")
        features = [name for name in reader.fieldnames if name != label_column]
        if not features:
            raise ValueError(f"{path}: no feature columns besides '{label_column}'")
        rows, labels = [], []
        for line, record in enumerate(reader, start=2):
            try:
                rows.append([float(record[name]) for name in features])
            except (TypeError, ValueError):
                raise ValueError(f"{path}, line {line}: every feature must be a number") from None
            labels.append(record[label_column])
    if not rows:
        raise ValueError(f"{path}: no data rows")
    return features, rows, labels


class NearestCentroid:
    def __init__(self, features, means, scales, centroids):
        self.features = list(features)
        self.means = list(means)
        self.scales = list(scales)
        self.centroids = {label: list(center) for label, center in centroids.items()}

    @classmethod
    def fit(cls, features, rows, labels):
        if len(rows) != len(labels) or not rows:
            raise ValueError("fit needs as many labels as rows, and at least one row")
        count = len(rows)
        means = [sum(row[i] for row in rows) / count for i in range(len(features))]
        scales = []
        for i in range(len(features)):
            variance = sum((row[i] - means[i]) ** 2 for row in rows) / count
            scales.append(math.sqrt(variance) or 1.0)
        sums, counts = {}, {}
        for row, label in zip(rows, labels):
            scaled = [(value - means[i]) / scales[i] for i, value in enumerate(row)]
            total = sums.setdefault(label, [0.0] * len(features))
            for i, value in enumerate(scaled):
                total[i] += value
            counts[label] = counts.get(label, 0) + 1
        centroids = {label: [value / counts[label] for value in total] for label, total in sorted(sums.items())}
        return cls(features, means, scales, centroids)

    @property
    def classes(self):
        return sorted(self.centroids)

    def distances(self, row):
        scaled = [(value - self.means[i]) / self.scales[i] for i, value in enumerate(row)]
        return {
            label: math.sqrt(sum((a - b) ** 2 for a, b in zip(scaled, center)))
            for label, center in self.centroids.items()
        }

    def predict(self, row):
        distances = self.distances(row)
        return min(sorted(distances), key=distances.get)

    def row_from(self, instance):
        """A feature row from a JSON object ({"weight_g": 150, ...}) or list; ValueError says what is wrong."""
        if isinstance(instance, dict):
            missing = [name for name in self.features if name not in instance]
            if missing:
                raise ValueError(f"missing features: {', '.join(missing)}")
            values = [instance[name] for name in self.features]
        elif isinstance(instance, list):
            if len(instance) != len(self.features):
                raise ValueError(f"expected {len(self.features)} values ({', '.join(self.features)}), got {len(instance)}")
            values = instance
        else:
            raise ValueError("an instance is an object of features or a list of numbers")
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in values):
            raise ValueError("every feature must be a finite number")
        return [float(v) for v in values]

    def accuracy(self, rows, labels):
        if not rows:
            return 0.0
        return sum(1 for row, label in zip(rows, labels) if self.predict(row) == label) / len(rows)

    def to_json(self):
        return {"kind": "nearest-centroid", "features": self.features, "means": self.means, "scales": self.scales,
                "centroids": self.centroids}

    @classmethod
    def from_json(cls, data):
        if data.get("kind") != "nearest-centroid":
            raise ValueError("not a nearest-centroid model")
        return cls(data["features"], data["means"], data["scales"], data["centroids"])

    def save(self, path):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as handle:
            return cls.from_json(json.load(handle))
