"""client.datasets against the in-memory datasets fake: names, streaming uploads, paging, resumable downloads."""

import hashlib
import io
import os
import tempfile
import unittest
from contextlib import redirect_stderr

try:
    from . import fake_datasets, support
except ImportError:  # started with tests/ as the top-level directory
    import fake_datasets
    import support

from platformsdk import BadRequestError, Client, NotFoundError, PayloadTooLargeError, PlatformError, parse_ref


class DatasetTestCase(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.store = fake_datasets.FakeDatasets(self.fake)
        self.client = Client(self.fake.url, support.TEST_KEY)
        self.ds = self.client.datasets
        self.tmp = tempfile.mkdtemp(prefix="platformsdk-ds-")
        self.addCleanup(__import__("shutil").rmtree, self.tmp, ignore_errors=True)

    def write(self, relative: str, data: bytes) -> str:
        path = os.path.join(self.tmp, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def requests(self, method: str, fragment: str):
        return [s for s in self.fake.seen if s.method == method and fragment in s.path]


class ReferenceTests(DatasetTestCase):
    def test_parse_ref(self) -> None:
        self.assertEqual(parse_ref("images@3"), ("images", "3"))
        self.assertEqual(parse_ref("images@latest"), ("images", "latest"))
        self.assertEqual(parse_ref("images"), ("images", None))
        with self.assertRaises(ValueError):
            parse_ref("images@")

    def test_create_list_and_get_by_name_and_id(self) -> None:
        created = self.ds.create("images", description="cats", license="CC-BY-4.0", tags=["vision", "cats"])
        post = self.requests("POST", "/api/v1/datasets")[0]
        self.assertEqual(__import__("json").loads(post.body), {"accountId": None, "name": "images", "description": "cats",
                                                              "license": "CC-BY-4.0", "tags": ["vision", "cats"]})
        self.ds.create("images-small")
        self.assertEqual([d["name"] for d in self.ds.list()], ["images", "images-small"])
        self.assertEqual(self.ds.get("images")["id"], created["id"])
        self.assertEqual(self.ds.get("images@3")["id"], created["id"])
        self.assertEqual(self.ds.get(created["id"])["name"], "images")
        # The name was looked up with a search, not by listing everything.
        self.assertTrue(any("search=images" in s.path for s in self.requests("GET", "/api/v1/datasets?")))

    def test_unknown_name_raises_not_found(self) -> None:
        with self.assertRaises(NotFoundError) as caught:
            self.ds.get("nothing")
        self.assertIn("no dataset named 'nothing'", str(caught.exception))

    def test_list_iterates_every_page(self) -> None:
        for i in range(7):
            self.store.add(f"set-{i}")
        names = [d["name"] for d in self.ds.list(page_size=3)]
        self.assertEqual(names, [f"set-{i}" for i in range(7)])
        self.assertEqual(len(self.requests("GET", "/api/v1/datasets?")), 3)

    def test_bad_name_maps_to_bad_request(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            self.ds.create("Bad Name")
        self.assertIn("name: Use lowercase", str(caught.exception))

    def test_delete_and_usage(self) -> None:
        self.store.add("gone")
        self.ds.delete("gone")
        self.assertEqual(self.store.datasets, {})
        usage = self.ds.usage()
        self.assertEqual(usage["accountId"], support.ME["currentAccountId"])
        self.assertEqual(usage["usedBytes"], 0)


class UploadTests(DatasetTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dataset = self.store.add("images")

    def test_upload_file_streams_exact_bytes_with_content_length(self) -> None:
        data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
        path = self.write("big.bin", data)
        calls = []
        entry = self.ds.upload_file("images", path, "raw/big file#1.bin", progress=lambda d, t: calls.append((d, t)))
        put = self.requests("PUT", "/draft/files/")[0]
        self.assertTrue(put.path.endswith("/draft/files/raw/big%20file%231.bin"), put.path)
        self.assertEqual(put.headers["Content-Length"], str(len(data)))
        self.assertEqual(put.headers["Content-Type"], "application/octet-stream")
        self.assertNotIn("Transfer-Encoding", put.headers)
        self.assertEqual(put.body, data)
        self.assertEqual(entry["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(self.store.files[self.dataset["id"]]["draft"]["raw/big file#1.bin"], data)
        self.assertEqual(calls[-1], (len(data), len(data)))
        self.assertGreater(len(calls), 1)

    def test_sha_mismatch_raises(self) -> None:
        self.store.wrong_sha = True
        with self.assertRaises(PlatformError) as caught:
            self.ds.upload_file("images", self.write("a.txt", b"hello"))
        self.assertIn("Checksum mismatch", str(caught.exception))

    def test_writes_only_go_to_the_draft(self) -> None:
        with self.assertRaises(ValueError):
            self.ds.upload_file("images@2", self.write("a.txt", b"x"))
        self.ds.upload_file("images@draft", self.write("b.txt", b"y"))
        self.assertIn("b.txt", self.store.files[self.dataset["id"]]["draft"])

    def test_upload_folder_nested_with_progress_lines(self) -> None:
        self.write("src/b.txt", b"bb")
        self.write("src/a/deep/c.bin", b"ccc")
        self.write("src/a/x.txt", b"x")
        os.symlink(os.path.join(self.tmp, "src", "b.txt"), os.path.join(self.tmp, "src", "link.txt"))
        err = io.StringIO()
        with redirect_stderr(err):
            summary = self.ds.upload_folder("images", os.path.join(self.tmp, "src"), prefix="train/")
        self.assertEqual(summary["files"], 4)
        self.assertEqual(summary["bytes"], 8)
        stored = self.store.files[self.dataset["id"]]["draft"]
        self.assertEqual(sorted(stored), ["train/a/deep/c.bin", "train/a/x.txt", "train/b.txt", "train/link.txt"])
        self.assertEqual(stored["train/link.txt"], b"bb")
        lines = err.getvalue().splitlines()
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[0].startswith("uploaded 1/4 files, 3 B/8 B (38%)"), lines[0])
        self.assertIn("train/a/deep/c.bin", lines[0])
        self.assertTrue(lines[-1].startswith("uploaded 4/4 files, 8 B/8 B (100%)"), lines[-1])
        self.assertRegex(lines[-1], r"/s train/link.txt$")
        self.assertNotIn("\r", err.getvalue())

    def test_upload_folder_refuses_broken_symlink(self) -> None:
        self.write("src/a.txt", b"a")
        os.symlink(os.path.join(self.tmp, "missing"), os.path.join(self.tmp, "src", "broken"))
        with self.assertRaises(FileNotFoundError):
            self.ds.upload_folder("images", os.path.join(self.tmp, "src"), progress=False)
        self.assertEqual(self.requests("PUT", "/draft/files/"), [])

    def test_quota_maps_to_payload_too_large_with_message(self) -> None:
        self.store.quota_bytes = 4
        with self.assertRaises(PayloadTooLargeError) as caught:
            self.ds.upload_file("images", self.write("a.txt", b"too large"))
        self.assertEqual(caught.exception.status, 413)
        self.assertIn("Storage quota exceeded: 9 bytes needed, 4 left.", str(caught.exception))

    def test_quota_answer_before_the_body_is_read_is_not_a_broken_pipe(self) -> None:
        # Like Kestrel over quota: answer 413 at once, close, never read the upload.
        import socket
        import threading

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.addCleanup(listener.close)

        def serve() -> None:
            conn, _ = listener.accept()
            conn.recv(4096)
            body = b'{"title":"Payload Too Large","status":413,"detail":"Storage quota exceeded."}'
            conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/problem+json\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            conn.shutdown(socket.SHUT_WR)
            __import__("time").sleep(1)
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        client = Client(f"http://127.0.0.1:{listener.getsockname()[1]}", support.TEST_KEY)
        path = self.write("huge.bin", b"\0" * (48 << 20))  # far more than the socket buffers hold
        with self.assertRaises(PayloadTooLargeError) as caught:
            client.datasets.upload_file(self.dataset["id"], path)
        self.assertIn("Storage quota exceeded.", str(caught.exception))

    def test_bad_path_shows_the_field_message(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            self.ds.upload_file("images", self.write("a.txt", b"a"), "x/../y")
        self.assertEqual(caught.exception.errors, {"path": ["'x/../y' is not a valid file path."]})
        self.assertIn("path: 'x/../y' is not a valid file path.", str(caught.exception))


class PublishAndDownloadTests(DatasetTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dataset = self.store.add("images")
        self.data = bytes(range(256)) * 4000  # ~1 MiB
        self.store.files[self.dataset["id"]]["draft"] = {"a/one.bin": self.data, "b.txt": b"bee"}

    def test_publish_and_files_over_several_pages(self) -> None:
        with self.assertRaises(NotFoundError):  # nothing published yet: no "latest"
            list(self.ds.files("images"))
        version = self.ds.publish("images")
        self.assertEqual((version["version"], version["fileCount"]), ("1", 2))
        draft = self.store.files[self.dataset["id"]]["draft"]
        draft.update({f"p/{i:02d}": b"x" for i in range(5)})
        paths = [f["path"] for f in self.ds.files("images@draft", limit=2)]
        self.assertEqual(paths, ["a/one.bin", "b.txt"] + [f"p/{i:02d}" for i in range(5)])
        pages = self.requests("GET", "/versions/draft/files?")
        self.assertEqual(len(pages), 4)
        self.assertIn("after=b.txt", pages[1].path)
        self.assertEqual([f["path"] for f in self.ds.files("images", prefix="p/", version="draft")][:1], ["p/00"])
        self.assertEqual([f["path"] for f in self.ds.files("images@1")], ["a/one.bin", "b.txt"])
        self.assertEqual(self.ds.get("images")["latestVersion"], 1)

    def test_publish_empty_draft_conflicts(self) -> None:
        self.store.files[self.dataset["id"]]["draft"] = {}
        with self.assertRaises(PlatformError) as caught:
            self.ds.publish("images")
        self.assertEqual(caught.exception.status, 409)

    def test_download_file_resumes_from_part(self) -> None:
        self.ds.publish("images")
        target = os.path.join(self.tmp, "out", "one.bin")
        os.makedirs(os.path.dirname(target))
        with open(target + ".part", "wb") as handle:
            handle.write(self.data[:1000])
        self.assertEqual(self.ds.download_file("images", "a/one.bin", target), target)
        get = self.requests("GET", "/versions/latest/files/a/one.bin")[-1]
        self.assertEqual(get.headers["Range"], "bytes=1000-")
        with open(target, "rb") as handle:
            self.assertEqual(handle.read(), self.data)
        self.assertFalse(os.path.exists(target + ".part"))

    def test_download_without_part_sends_no_range(self) -> None:
        target = os.path.join(self.tmp, "b.txt")
        self.ds.download_file("images", "b.txt", target, version="draft")
        self.assertNotIn("Range", self.requests("GET", "/files/b.txt")[-1].headers)
        with open(target, "rb") as handle:
            self.assertEqual(handle.read(), b"bee")

    def test_download_sha_mismatch_removes_partial_file(self) -> None:
        self.store.wrong_etag = True
        target = os.path.join(self.tmp, "one.bin")
        with self.assertRaises(PlatformError) as caught:
            self.ds.download_file("images@draft", "a/one.bin", target)
        self.assertIn("Checksum mismatch", str(caught.exception))
        self.assertFalse(os.path.exists(target))
        self.assertFalse(os.path.exists(target + ".part"))

    def test_download_whole_version_with_progress(self) -> None:
        self.ds.publish("images")
        err = io.StringIO()
        with redirect_stderr(err):
            summary = self.ds.download("images@1", os.path.join(self.tmp, "dl"))
        self.assertEqual(summary["files"], 2)
        with open(os.path.join(self.tmp, "dl", "a", "one.bin"), "rb") as handle:
            self.assertEqual(handle.read(), self.data)
        self.assertEqual(len(err.getvalue().splitlines()), 2)
        self.assertIn("downloaded 2/2 files", err.getvalue())

    def test_download_without_etag_checks_the_listed_sha(self) -> None:
        original = self.store._get_file

        def without_etag(*args):
            reply = original(*args)
            reply.headers.pop("ETag", None)
            return reply

        self.store._get_file = without_etag
        target = os.path.join(self.tmp, "b.txt")
        self.ds.download_file("images@draft", "b.txt", target)
        self.assertTrue(os.path.exists(target))
        self.assertTrue(self.requests("GET", "/versions/draft/files?prefix=b.txt"))
        self.store.files[self.dataset["id"]]["draft"]["b.txt"] = b"changed"  # listing and bytes still agree
        self.ds.download_file("images@draft", "b.txt", target, resume=False)
        with open(target, "rb") as handle:
            self.assertEqual(handle.read(), b"changed")

    def test_empty_file_round_trip(self) -> None:
        entry = self.ds.upload_file("images", self.write("empty", b""))
        self.assertEqual((entry["size"], entry["sha256"]), (0, hashlib.sha256(b"").hexdigest()))
        target = os.path.join(self.tmp, "empty.out")
        self.ds.download_file("images@draft", "empty", target)
        self.assertEqual(os.path.getsize(target), 0)

    def test_progress_on_a_terminal_rewrites_one_line(self) -> None:
        class Tty(io.StringIO):
            def isatty(self) -> bool:
                return True

        err = Tty()
        with redirect_stderr(err):
            self.ds.download("images@draft", os.path.join(self.tmp, "tty"))
        text = err.getvalue()
        self.assertTrue(text.endswith("\n"))
        self.assertEqual(text.count("\n"), 1)
        self.assertIn("\r\x1b[Kdownloaded 2/2 files", text)

    def test_open_streams_the_response(self) -> None:
        with self.ds.open("images@draft", "a/one.bin") as handle:
            first = handle.read(10)
            rest = handle.read()
        self.assertEqual(first + rest, self.data)
        self.assertEqual(first, self.data[:10])
        with self.assertRaises(NotFoundError):
            self.ds.open("images@draft", "missing.bin")

    def test_delete_version(self) -> None:
        self.ds.publish("images")
        self.ds.delete_version("images", 1)
        self.assertNotIn("1", self.store.files[self.dataset["id"]])


if __name__ == "__main__":
    unittest.main()
