"""client.datasets.archive/preview/diff and ``plat datasets diff|archive`` against the fake."""

import io
import os
import shutil
import tempfile
import unittest
import zipfile
from contextlib import redirect_stderr

try:
    from . import fake_browse, fake_datasets, support
    from .test_cli import run_cli
except ImportError:  # started with tests/ as the top-level directory
    import fake_browse
    import fake_datasets
    import support
    from test_cli import run_cli

from platformsdk import Client, NotFoundError


class BrowseTestCase(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.store = fake_datasets.FakeDatasets(self.fake)
        fake_browse.FakeBrowse(self.fake, self.store)
        self.client = Client(self.fake.url, support.TEST_KEY)
        self.tmp = tempfile.mkdtemp(prefix="platformsdk-browse-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        dataset = self.store.add("images")
        self.id = dataset["id"]
        versions = self.store.files[self.id]
        versions["1"] = {"a.txt": b"same", "b.csv": b"x,y\n1,2\n", "c.txt": b"gone soon", "sub/d.bin": b"\x00\x01"}
        versions["2"] = {"a.txt": b"same", "b.csv": b"x,y\n1,2\n3,4\n", "e.txt": b"new", "sub/d.bin": b"\x00\x01"}
        versions["draft"] = dict(versions["2"])
        self.store.datasets[self.id]["latestVersion"] = 2


class ClientBrowseTests(BrowseTestCase):
    def test_diff_fetches_every_page_and_returns_the_counts(self) -> None:
        diff = self.client.datasets.diff("images", 1, "latest", page_size=1)
        self.assertEqual([f["path"] for f in diff["added"]], ["e.txt"])
        self.assertEqual([f["path"] for f in diff["removed"]], ["c.txt"])
        self.assertEqual(diff["changed"][0]["path"], "b.csv")
        self.assertEqual((diff["changed"][0]["sizeBefore"], diff["changed"][0]["sizeAfter"]), (8, 12))
        self.assertEqual(diff["counts"], {"added": 1, "removed": 1, "changed": 1, "unchanged": 2})
        pages = [s for s in self.fake.seen if "/diff/" in s.path]
        self.assertEqual(len(pages), 3)
        self.assertIn("after=b.csv", pages[1].path)

    def test_diff_of_an_unknown_version_raises_not_found(self) -> None:
        with self.assertRaises(NotFoundError):
            self.client.datasets.diff("images", 1, 9)

    def test_archive_writes_the_zip_and_no_part_file(self) -> None:
        dest = os.path.join(self.tmp, "out", "images.zip")
        err = io.StringIO()
        with redirect_stderr(err):
            saved = self.client.datasets.archive("images@1", dest, prefix="sub/")
        self.assertEqual(saved["path"], dest)
        with zipfile.ZipFile(dest) as archive:
            self.assertEqual(archive.namelist(), ["sub/d.bin"])
            self.assertEqual(archive.read("sub/d.bin"), b"\x00\x01")
        self.assertEqual(saved["bytes"], os.path.getsize(dest))
        self.assertFalse(os.path.exists(dest + ".part"))
        self.assertIn("images.zip:", err.getvalue())
        request = [s for s in self.fake.seen if "/archive" in s.path][0]
        self.assertIn("/versions/1/archive?prefix=sub%2F", request.path)

    def test_archive_of_a_missing_version_leaves_nothing_behind(self) -> None:
        dest = os.path.join(self.tmp, "none.zip")
        with self.assertRaises(NotFoundError):
            self.client.datasets.archive("images@7", dest, progress=False)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_preview_of_a_table_and_of_text(self) -> None:
        table = self.client.datasets.preview("images", "b.csv")
        self.assertEqual((table["kind"], table["columns"], table["rows"]), ("table", ["x", "y"], [["1", "2"], ["3", "4"]]))
        text = self.client.datasets.preview("images@1", "c.txt")
        self.assertEqual(text["text"], "gone soon")
        self.assertTrue(any("/versions/1/preview/c.txt" in s.path for s in self.fake.seen))


class CommandBrowseTests(BrowseTestCase):
    def setUp(self) -> None:
        super().setUp()
        os.environ.update(PLATFORM_API_URL=self.fake.url, PLATFORM_API_KEY=support.TEST_KEY)

    def test_plat_datasets_diff(self) -> None:
        code, out, err = run_cli(["datasets", "diff", "images", "1", "2"])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "~ b.csv  (8 B -> 12 B)",
            "- c.txt  (9 B)",
            "+ e.txt  (3 B)",
            "1 added, 1 removed, 1 changed, 2 unchanged",
        ])

    def test_plat_datasets_archive_with_output_and_default_name(self) -> None:
        dest = os.path.join(self.tmp, "v1.zip")
        code, out, err = run_cli(["datasets", "archive", "images@1", "-o", dest])
        self.assertEqual(code, 0, err)
        self.assertIn(f"saved {dest}", out)
        self.assertIn("v1.zip:", err)  # the progress line
        with zipfile.ZipFile(dest) as archive:
            self.assertEqual(sorted(archive.namelist()), ["a.txt", "b.csv", "c.txt", "sub/d.bin"])

        cwd = os.getcwd()
        os.chdir(self.tmp)
        self.addCleanup(os.chdir, cwd)
        code, out, _ = run_cli(["datasets", "archive", "images", "--no-progress"])
        self.assertEqual(code, 0)
        self.assertTrue(os.path.isfile(os.path.join(self.tmp, "images-latest.zip")))


if __name__ == "__main__":
    unittest.main()
