import json
import os
import subprocess
import sys
import tempfile
import unittest

MODULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, MODULE_DIR)

from demo_classifier.model import DEFAULT_DATA, NearestCentroid, read_csv  # noqa: E402


class ModelTests(unittest.TestCase):
    def test_fit_separates_the_bundled_fruits(self):
        features, rows, labels = read_csv(DEFAULT_DATA)
        model = NearestCentroid.fit(features, rows, labels)
        self.assertEqual(["apple", "lemon", "orange"], model.classes)
        self.assertGreaterEqual(model.accuracy(rows, labels), 0.9)
        self.assertEqual("lemon", model.predict([90, 6.0, 0.2]))
        self.assertEqual("apple", model.predict([150, 7.5, 0.8]))

    def test_model_round_trips_through_json(self):
        model = NearestCentroid.fit(["x"], [[0.0], [10.0]], ["low", "high"])
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "m.json")
            model.save(path)
            loaded = NearestCentroid.load(path)
        self.assertEqual(model.to_json(), loaded.to_json())
        self.assertEqual("high", loaded.predict([9.0]))

    def test_row_from_rejects_missing_and_non_numeric_features(self):
        model = NearestCentroid.fit(["a", "b"], [[0, 0], [1, 1]], ["x", "y"])
        self.assertEqual([1.0, 2.0], model.row_from({"a": 1, "b": 2}))
        self.assertEqual([1.0, 2.0], model.row_from([1, 2]))
        with self.assertRaisesRegex(ValueError, "missing features: b"):
            model.row_from({"a": 1})
        with self.assertRaisesRegex(ValueError, "finite number"):
            model.row_from({"a": 1, "b": "2"})
        with self.assertRaisesRegex(ValueError, "expected 2 values"):
            model.row_from([1])

    def test_read_csv_says_which_line_is_bad(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "bad.csv")
            with open(path, "w") as handle:
                handle.write("x,label\n1,a\nnope,b\n")
            with self.assertRaisesRegex(ValueError, "line 3"):
                read_csv(path)


class TrainScriptTests(unittest.TestCase):
    def run_train(self, *args):
        return subprocess.run([sys.executable, os.path.join(MODULE_DIR, "train.py"), *args], cwd=MODULE_DIR,
                              capture_output=True, text=True, timeout=60)

    def test_train_writes_a_model_and_prints_metrics(self):
        with tempfile.TemporaryDirectory() as folder:
            data = os.path.join(folder, "d.csv")
            with open(data, "w") as handle:
                handle.write("size,kind\n" + "".join(f"{i},{'small' if i < 10 else 'big'}\n" for i in range(20)))
            output = os.path.join(folder, "model.json")
            result = self.run_train("--data", data, "--output", output, "--label", "kind")
            self.assertEqual(0, result.returncode, result.stderr)
            metrics = json.loads(result.stdout.split("metrics: ", 1)[1].splitlines()[0])
            self.assertEqual(20, metrics["rows"])
            self.assertEqual(["big", "small"], metrics["classes"])
            self.assertGreaterEqual(metrics["test_accuracy"], 0.75)
            self.assertEqual("small", NearestCentroid.load(output).predict([2]))

    def test_train_fails_clearly_on_a_missing_label_column(self):
        with tempfile.TemporaryDirectory() as folder:
            data = os.path.join(folder, "d.csv")
            with open(data, "w") as handle:
                handle.write("a,b\n1,2\n")
            result = self.run_train("--data", data, "--output", os.path.join(folder, "m.json"))
            self.assertEqual(2, result.returncode)
            self.assertIn("no 'label' column", result.stderr)


if __name__ == "__main__":
    unittest.main()
