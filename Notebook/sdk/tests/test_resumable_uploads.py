"""Large files go in parts: each retried, and an interrupted upload resumes with only the missing parts."""

import hashlib
import json
import os
from unittest import mock

try:
    from . import support
    from .test_datasets import DatasetTestCase
except ImportError:  # started with tests/ as the top-level directory
    import support
    from test_datasets import DatasetTestCase

from platformsdk import PayloadTooLargeError, PlatformError, _multipart


class ResumableUploadTests(DatasetTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dataset = self.store.add("weights")
        self.store.part_size = 1024
        for name, value in (("PART_THRESHOLD", 1000), ("FIRST_BACKOFF", 0.0)):
            patcher = mock.patch.object(_multipart, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)
        # State files go under the test's own HOME, never a developer's cache.
        os.environ["XDG_CACHE_HOME"] = os.path.join(self.home, ".cache")
        self.data = os.urandom(5 * 1024 - 100)  # five parts, the last one shorter
        self.path = self.write("model.bin", self.data)

    def part_puts(self):
        return [s for s in self.fake.seen if s.method == "PUT" and "/parts/" in s.path]

    def state_files(self):
        folder = _multipart.state_folder()
        return os.listdir(folder) if os.path.isdir(folder) else []

    def interrupted(self, after: int) -> None:
        """Runs the upload until ``after`` bytes are sent, then stops it as Ctrl+C does."""
        def interrupt(done: int, _total: int) -> None:
            if done > after:
                raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            self.ds.upload_file("weights", self.path, "model.bin", progress=interrupt)

    def test_large_file_goes_in_parts_with_its_sha256_declared(self) -> None:
        calls = []
        entry = self.ds.upload_file("weights", self.path, "ckpt/model.bin", progress=lambda d, t: calls.append((d, t)))
        start = self.requests("POST", "/draft/uploads")[0]
        self.assertTrue(start.path.endswith("/draft/uploads"), start.path)
        self.assertEqual(json.loads(start.body), {"path": "ckpt/model.bin", "size": len(self.data),
                                                  "sha256": hashlib.sha256(self.data).hexdigest()})
        puts = self.part_puts()
        self.assertEqual([p.path.rsplit("/", 1)[1] for p in puts], ["1", "2", "3", "4", "5"])
        self.assertEqual([p.headers["Content-Length"] for p in puts], ["1024"] * 4 + [str(len(self.data) - 4096)])
        self.assertEqual(self.store.files[self.dataset["id"]]["draft"]["ckpt/model.bin"], self.data)
        self.assertEqual(entry["sha256"], hashlib.sha256(self.data).hexdigest())
        self.assertEqual(calls[0], (0, len(self.data)))
        self.assertEqual(calls[-1], (len(self.data), len(self.data)))
        self.assertEqual(self.state_files(), [], "the state file outlived a finished upload")
        self.assertEqual(self.requests("PUT", "/draft/files/"), [], "a large file went in one request")

    def test_interrupted_upload_resumes_with_only_the_missing_parts(self) -> None:
        self.interrupted(2500)
        (upload,) = self.store.uploads.values()
        self.assertEqual(sorted(upload["parts"]), [1, 2])
        self.assertEqual(len(self.state_files()), 1)
        first_run = len(self.fake.seen)

        calls = []
        entry = self.ds.upload_file("weights", self.path, "model.bin", progress=lambda d, t: calls.append((d, t)))
        second = self.fake.seen[first_run:]
        # The part cut off by the interruption may reach the server late, short of its length: only whole ones count.
        whole = [s for s in second if s.method == "PUT" and len(s.body) == int(s.headers["Content-Length"])]
        self.assertEqual([s.path.rsplit("/", 1)[1] for s in whole], ["3", "4", "5"])
        self.assertFalse(any(s.method == "POST" and s.path.endswith("/draft/uploads") for s in second), "a new upload was started")
        # The progress starts at the bytes already on the server.
        self.assertEqual(calls[0], (2048, len(self.data)))
        self.assertEqual(self.store.files[self.dataset["id"]]["draft"]["model.bin"], self.data)
        self.assertEqual(entry["size"], len(self.data))
        self.assertEqual(self.state_files(), [])

    def test_a_part_is_retried_when_the_server_is_briefly_away(self) -> None:
        self.store.part_failures = {2: 2}
        self.ds.upload_file("weights", self.path, "model.bin")
        self.assertEqual([p.path.rsplit("/", 1)[1] for p in self.part_puts()], ["1", "2", "2", "2", "3", "4", "5"])
        self.assertEqual(self.store.files[self.dataset["id"]]["draft"]["model.bin"], self.data)

    def test_giving_up_on_a_part_says_how_to_continue_and_keeps_the_state(self) -> None:
        self.store.part_failures = {3: 100}
        with mock.patch.object(_multipart, "ATTEMPTS", 3), self.assertRaises(PlatformError) as caught:
            self.ds.upload_file("weights", self.path, "model.bin")
        self.assertIn("part 3 of 5", str(caught.exception))
        self.assertIn("run the upload again", str(caught.exception))
        self.assertEqual(len(self.state_files()), 1)
        self.store.part_failures = {}
        self.ds.upload_file("weights", self.path, "model.bin")
        self.assertEqual(self.store.files[self.dataset["id"]]["draft"]["model.bin"], self.data)

    def test_an_upload_gone_on_the_server_starts_again(self) -> None:
        self.interrupted(1500)
        self.store.uploads.clear()  # expired on the server
        self.ds.upload_file("weights", self.path, "model.bin")
        self.assertEqual(len([s for s in self.requests("POST", "/draft/uploads") if s.path.endswith("/draft/uploads")]), 2)
        self.assertEqual(self.store.files[self.dataset["id"]]["draft"]["model.bin"], self.data)

    def test_a_changed_file_is_a_new_upload(self) -> None:
        self.interrupted(1500)
        changed = os.urandom(len(self.data))
        self.write("model.bin", changed)
        os.utime(self.path, ns=(1, 1))
        self.ds.upload_file("weights", self.path, "model.bin")
        self.assertEqual(self.store.files[self.dataset["id"]]["draft"]["model.bin"], changed)

    def test_over_the_quota_is_refused_before_any_part(self) -> None:
        self.store.quota_bytes = 1000
        with self.assertRaises(PayloadTooLargeError) as caught:
            self.ds.upload_file("weights", self.path, "model.bin")
        self.assertIn("1000 of 1000 bytes left", str(caught.exception))
        self.assertEqual(self.part_puts(), [])
        self.assertEqual(self.state_files(), [])


if __name__ == "__main__":  # pragma: no cover
    support.unittest.main()
