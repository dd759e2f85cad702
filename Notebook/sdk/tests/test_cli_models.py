"""``plat models ...`` in process against the models fake."""

import os
import shutil
import tempfile
import unittest

try:
    from . import fake_models, support
    from .test_cli import run_cli
except ImportError:  # started with tests/ as the top-level directory
    import fake_models
    import support
    from test_cli import run_cli


class ModelsCommandTests(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.store = fake_models.FakeModels(self.fake)
        os.environ.update(PLATFORM_API_URL=self.fake.url, PLATFORM_API_KEY=support.TEST_KEY)
        self.tmp = tempfile.mkdtemp(prefix="platformsdk-cli-models-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.out = os.path.join(self.tmp, "out")
        os.makedirs(self.out)
        with open(os.path.join(self.out, "model.onnx"), "wb") as handle:
            handle.write(b"onnx")

    def test_register_list_versions_alias_download(self) -> None:
        metrics = os.path.join(self.tmp, "metrics.json")
        with open(metrics, "w", encoding="utf-8") as handle:
            handle.write('{"accuracy": 0.9}')
        code, out, err = run_cli(["models", "register", self.out, "digits", "--framework", "onnx", "--format", "onnx",
                                  "--metrics", f"@{metrics}", "--alias", "production"])
        self.assertEqual(code, 0, err)
        self.assertIn("registered digits@1 (1 files, 4 B, alias production)", out)
        self.assertIn("uploaded 1/1 files", err)
        model = next(iter(self.store.datasets.values()))
        self.assertEqual(model["metrics"], {"accuracy": 0.9})

        code, out, _ = run_cli(["models", "register", self.out, "digits", "--no-progress"])
        self.assertEqual(code, 0)
        self.assertIn("registered digits@2", out)

        code, out, _ = run_cli(["models", "list", "--framework", "onnx"])
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith("digits\tv2\tonnx\tproduction=v1\t"), out)

        code, out, _ = run_cli(["models", "alias", "digits", "staging", "v2"])
        self.assertEqual((code, out), (0, "digits@staging is now version 2\n"))
        code, out, _ = run_cli(["models", "versions", "digits"])
        self.assertEqual(code, 0)
        self.assertEqual([line.split("\t")[:2] for line in out.splitlines()], [["v2", "staging"], ["v1", "production"]])

        dest = os.path.join(self.tmp, "dl")
        code, out, _ = run_cli(["models", "download", "digits@production", dest, "--no-progress"])
        self.assertEqual(code, 0)
        self.assertIn("downloaded 1 files, 4 B of digits@production", out)
        self.assertTrue(os.path.isfile(os.path.join(dest, "model.onnx")))

        code, out, _ = run_cli(["models", "alias", "digits", "staging", "--remove"])
        self.assertEqual((code, out), (0, "removed alias staging from digits\n"))

    def test_bad_json_and_a_missing_version_are_errors_not_tracebacks(self) -> None:
        code, _, err = run_cli(["models", "register", self.out, "digits", "--metrics", "{accuracy"])
        self.assertEqual(code, 1)
        self.assertIn("error: --metrics is not valid JSON", err)
        code, _, err = run_cli(["models", "register", self.out, "digits", "--input-schema", "[1]"])
        self.assertIn("error: --input-schema must be a JSON object", err)
        self.assertEqual(self.store.datasets, {})

        self.store.add("digits")
        code, _, err = run_cli(["models", "alias", "digits", "production"])
        self.assertEqual(code, 2)
        self.assertIn("give the VERSION", err)

    def test_models_without_a_subcommand_prints_help(self) -> None:
        os.environ.pop("PLATFORM_API_URL")
        code, _, err = run_cli(["models"])
        self.assertEqual(code, 2)
        self.assertIn("register", err)


if __name__ == "__main__":
    unittest.main()
