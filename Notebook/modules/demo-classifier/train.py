"""Trains the demo classifier: reads a CSV (features + a label column), writes the model as JSON, prints metrics.

    python3 train.py [--data data.csv] [--output model.json] [--label label] [--test-fraction 0.2]

Every fifth row (by default) is held out, deterministically, to measure accuracy; the model written is then fitted on
all rows. Metrics go to stdout as one JSON line prefixed "metrics:", so a job's log can be parsed.
"""

import argparse
import json
import sys

from demo_classifier.model import DEFAULT_DATA, NearestCentroid, read_csv


def split(rows, labels, test_fraction):
    if not 0 <= test_fraction < 1:
        raise ValueError("--test-fraction must be in [0, 1)")
    every = round(1 / test_fraction) if test_fraction > 0 else 0
    train, test = ([], []), ([], [])
    for index, (row, label) in enumerate(zip(rows, labels)):
        target = test if every and index % every == every - 1 else train
        target[0].append(row)
        target[1].append(label)
    return train, test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="CSV with a header row (default: the bundled fruits.csv)")
    parser.add_argument("--output", default="model.json", help="where to write the model (default: model.json)")
    parser.add_argument("--label", default="label", help="the label column (default: label)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of rows held out (default: 0.2)")
    args = parser.parse_args(argv)
    try:
        features, rows, labels = read_csv(args.data, args.label)
        (train_rows, train_labels), (test_rows, test_labels) = split(rows, labels, args.test_fraction)
        if not train_rows:
            raise ValueError("no rows left to train on")
        held_out = NearestCentroid.fit(features, train_rows, train_labels)
        metrics = {
            "rows": len(rows),
            "train_accuracy": round(held_out.accuracy(train_rows, train_labels), 4),
            "test_accuracy": round(held_out.accuracy(test_rows, test_labels), 4) if test_rows else None,
            "classes": held_out.classes,
        }
        NearestCentroid.fit(features, rows, labels).save(args.output)
    except (OSError, ValueError) as error:
        print(f"train.py: {error}", file=sys.stderr)
        return 2
    print("metrics: " + json.dumps(metrics), flush=True)
    print(f"model written to {args.output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
