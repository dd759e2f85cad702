"""client.models against the in-memory models fake: register a folder, metadata, aliases, versions, download by alias."""

import io
import json
import os
import shutil
import tempfile
import unittest
from contextlib import redirect_stderr

try:
    from . import fake_models, support
except ImportError:  # started with tests/ as the top-level directory
    import fake_models
    import support

from platformsdk import BadRequestError, Client, Models, NotFoundError


class ModelTestCase(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.store = fake_models.FakeModels(self.fake)
        self.client = Client(self.fake.url, support.TEST_KEY)
        self.models = self.client.models
        self.tmp = tempfile.mkdtemp(prefix="platformsdk-models-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def folder(self, name: str, files: dict) -> str:
        root = os.path.join(self.tmp, name)
        for relative, data in files.items():
            path = os.path.join(root, *relative.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
        return root

    def requests(self, method: str, fragment: str):
        return [s for s in self.fake.seen if s.method == method and fragment in s.path]


class RegisterTests(ModelTestCase):
    def test_register_creates_the_model_uploads_publishes_and_sets_the_alias(self) -> None:
        out = self.folder("out", {"model.safetensors": b"weights", "config/params.json": b"{}"})
        with redirect_stderr(io.StringIO()) as err:
            version = self.models.register(out, "digits", framework="pytorch", format="safetensors",
                                           metrics={"accuracy": 0.93}, input_schema={"type": "object"},
                                           description="digits", alias="production")
        self.assertIn("uploaded 2/2 files", err.getvalue())
        self.assertEqual((version["version"], version["model"], version["aliases"]), ("1", "digits@1", ["production"]))
        created = json.loads(self.requests("POST", "/api/v1/models")[0].body)
        self.assertEqual((created["framework"], created["format"], created["metrics"], created["inputSchema"], created["outputSchema"]),
                         ("pytorch", "safetensors", {"accuracy": 0.93}, {"type": "object"}, None))
        model_id = next(iter(self.store.datasets))
        self.assertEqual(self.store.files[model_id]["1"], {"model.safetensors": b"weights", "config/params.json": b"{}"})
        self.assertEqual(self.store.datasets[model_id]["aliases"], {"production": 1})

    def test_register_again_updates_metadata_sends_only_changed_files_and_drops_removed_ones(self) -> None:
        first = self.folder("v1", {"model.bin": b"one", "old.txt": b"old", "same.json": b"{}"})
        self.models.register(first, "ranker", framework="sklearn", progress=False)
        self.fake.seen.clear()

        second = self.folder("v2", {"model.bin": b"two", "same.json": b"{}"})
        version = self.models.register(second, "ranker", metrics={"ndcg": 0.7}, progress=False)
        self.assertEqual(version["version"], "2")
        self.assertEqual([s.path.rsplit("/", 1)[-1] for s in self.requests("PUT", "/draft/files/")], ["model.bin"])
        self.assertEqual(len(self.requests("DELETE", "/draft/files/old.txt")), 1)
        patch = json.loads(self.requests("PATCH", "/api/v1/models/")[0].body)
        self.assertEqual(patch, {"metrics": {"ndcg": 0.7}})
        self.assertEqual([s for s in self.fake.seen if s.method == "POST" and s.path == "/api/v1/models"], [])
        model_id = next(iter(self.store.datasets))
        self.assertEqual(self.store.files[model_id]["2"], {"model.bin": b"two", "same.json": b"{}"})
        self.assertEqual(self.store.datasets[model_id]["framework"], "sklearn")

    def test_register_of_a_missing_folder_changes_nothing(self) -> None:
        with self.assertRaises(NotADirectoryError):
            self.models.register(os.path.join(self.tmp, "nope"), "ghost", progress=False)
        self.assertEqual(self.fake.seen, [])


class AliasAndDownloadTests(ModelTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.models.register(self.folder("a", {"w.bin": b"first"}), "clf", progress=False)
        self.models.register(self.folder("b", {"w.bin": b"second"}), "clf", progress=False)

    def test_versions_aliases_and_download_by_every_kind_of_reference(self) -> None:
        self.assertEqual(self.models.set_alias("clf", "production", 1)["aliases"], {"production": 1})
        self.assertEqual([(v["version"], v["aliases"]) for v in self.models.versions("clf")], [("2", []), ("1", ["production"])])
        for ref, expected in [("clf", b"second"), ("clf@latest", b"second"), ("clf@1", b"first"), ("clf@production", b"first")]:
            dest = os.path.join(self.tmp, "dl", ref.replace("@", "_"))
            summary = self.models.download(ref, dest, progress=False)
            self.assertEqual(summary["files"], 1)
            with open(os.path.join(dest, "w.bin"), "rb") as handle:
                self.assertEqual(handle.read(), expected, ref)
        self.assertTrue(self.requests("GET", "/versions/production/files/w.bin"))

        self.models.remove_alias("clf", "production")
        with self.assertRaises(NotFoundError):
            self.models.download("clf@production", os.path.join(self.tmp, "gone"), progress=False)

    def test_bad_alias_is_a_bad_request_and_get_and_list_work_by_name(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            self.models.set_alias("clf", "latest", 1)
        self.assertIn("alias:", str(caught.exception))
        self.assertEqual(self.models.get("clf@production")["name"], "clf")
        self.store.add("trees", framework="xgboost")
        self.assertEqual([m["name"] for m in self.models.list(framework="xgboost")], ["trees"])
        self.assertIn("framework=xgboost", self.requests("GET", "/api/v1/models?")[-1].path)

    def test_update_maps_python_names_and_refuses_unknown_ones(self) -> None:
        self.models.update("clf", input_schema=None, tags=("a",), format="onnx")
        self.assertEqual(json.loads(self.requests("PATCH", "/api/v1/models/")[0].body),
                         {"inputSchema": None, "tags": ["a"], "format": "onnx"})
        with self.assertRaises(TypeError):
            self.models.update("clf", colour="blue")

    def test_client_models_is_a_models_api(self) -> None:
        self.assertIsInstance(self.client.models, Models)


if __name__ == "__main__":
    unittest.main()
