"""``plat datasets ...`` in process against the datasets fake."""

import io
import os
import shutil
import tempfile
import unittest
from unittest import mock

try:
    from . import fake_datasets, support
    from .test_cli import run_cli
except ImportError:  # started with tests/ as the top-level directory
    import fake_datasets
    import support
    from test_cli import run_cli


class FakeTty(io.StringIO):
    """A stdin that claims to be a terminal, with the user's answer already typed."""

    def isatty(self) -> bool:
        return True


class DatasetsCommandTests(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.store = fake_datasets.FakeDatasets(self.fake)
        os.environ.update(PLATFORM_API_URL=self.fake.url, PLATFORM_API_KEY=support.TEST_KEY)
        self.tmp = tempfile.mkdtemp(prefix="platformsdk-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_create_upload_publish_files_download(self) -> None:
        code, out, err = run_cli(["datasets", "create", "images", "--description", "cats", "--tag", "a", "--tag", "b"])
        self.assertEqual((code, err), (0, ""))
        self.assertTrue(out.startswith("created images ("))
        dataset = next(iter(self.store.datasets.values()))
        self.assertEqual(dataset["tags"], ["a", "b"])

        src = os.path.join(self.tmp, "src", "sub")
        os.makedirs(src)
        with open(os.path.join(src, "x.txt"), "wb") as handle:
            handle.write(b"xyz")
        code, out, err = run_cli(["datasets", "upload", "images@draft", os.path.join(self.tmp, "src"), "--prefix", "p"])
        self.assertEqual(code, 0, err)
        self.assertIn("uploaded 1 files, 3 B", out)
        self.assertIn("uploaded 1/1 files", err)
        self.assertEqual(self.store.files[dataset["id"]]["draft"], {"p/sub/x.txt": b"xyz"})

        code, out, _ = run_cli(["datasets", "upload", "images", os.path.join(src, "x.txt")])
        self.assertEqual(code, 0)
        self.assertIn("uploaded x.txt (3 B", out)

        code, out, _ = run_cli(["datasets", "publish", "images"])
        self.assertEqual(code, 0)
        self.assertIn("published images@1 (2 files", out)

        code, out, _ = run_cli(["datasets", "files", "images@1"])
        self.assertEqual(code, 0)
        self.assertEqual([line.split()[-1] for line in out.splitlines()], ["p/sub/x.txt", "x.txt"])

        dest = os.path.join(self.tmp, "dest")
        code, out, _ = run_cli(["datasets", "download", "images", dest, "--no-progress"])
        self.assertEqual(code, 0)
        with open(os.path.join(dest, "p", "sub", "x.txt"), "rb") as handle:
            self.assertEqual(handle.read(), b"xyz")

        code, out, _ = run_cli(["datasets", "list"])
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith("images\tv1\tdraft 2 files"), out)

    def test_datasets_without_subcommand_prints_its_help(self) -> None:
        code, out, err = run_cli(["datasets"])
        self.assertEqual((code, out), (2, ""))
        self.assertIn("usage: plat datasets", err)
        self.assertIn("download", err)
        self.assertEqual(self.fake.seen, [])

    def test_delete_with_yes(self) -> None:
        self.store.add("gone")
        code, out, err = run_cli(["datasets", "delete", "gone", "--yes"])
        self.assertEqual((code, err), (0, ""))
        self.assertIn("deleted dataset gone", out)
        self.assertEqual(self.store.datasets, {})

    def test_delete_without_yes_and_without_tty_refuses(self) -> None:
        self.store.add("kept")
        with mock.patch("sys.stdin", io.StringIO("kept\n")):
            code, out, err = run_cli(["datasets", "delete", "kept"])
        self.assertEqual(code, 2)
        self.assertIn("refusing to delete dataset kept", err)
        self.assertEqual(len(self.store.datasets), 1)
        self.assertEqual([s for s in self.fake.seen if s.method == "DELETE"], [])

    def test_delete_asks_on_a_tty(self) -> None:
        self.store.add("maybe")
        with mock.patch("sys.stdin", FakeTty("wrong\n")):
            code, _, err = run_cli(["datasets", "delete", "maybe"])
        self.assertEqual(code, 2)
        self.assertIn("Type the name to confirm", err)
        self.assertEqual(len(self.store.datasets), 1)
        with mock.patch("sys.stdin", FakeTty("maybe\n")):
            code, out, _ = run_cli(["datasets", "delete", "maybe"])
        self.assertEqual(code, 0)
        self.assertEqual(self.store.datasets, {})

    def test_quota_error_exit_status_and_message(self) -> None:
        self.store.add("images")
        self.store.quota_bytes = 1
        path = os.path.join(self.tmp, "a.bin")
        with open(path, "wb") as handle:
            handle.write(b"abc")
        code, _, err = run_cli(["datasets", "upload", "images", path])
        self.assertEqual(code, 1)
        self.assertIn("error: 413 Payload Too Large: Storage quota exceeded", err)

    def test_missing_local_file_is_an_error_not_a_traceback(self) -> None:
        self.store.add("images")
        code, _, err = run_cli(["datasets", "upload", "images", os.path.join(self.tmp, "nope")])
        self.assertEqual(code, 1)
        self.assertIn("error:", err)


if __name__ == "__main__":
    unittest.main()
