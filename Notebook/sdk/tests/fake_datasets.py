"""An in-memory datasets API for FakePlatform, shaped like the server's answers."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
import uuid
from typing import Any, Dict, List, Optional

try:
    from . import support
except ImportError:  # started with tests/ as the top-level directory
    import support

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
NOW = "2026-11-21T12:00:00Z"


class FakeDatasets:
    """Datasets, drafts and published versions kept in dicts; installed as a FakePlatform handler.

    Knobs for failure tests: ``quota_bytes`` (413 past it), ``wrong_sha`` (uploads
    answer a wrong sha256), ``wrong_etag`` (downloads announce a wrong ETag),
    ``part_size`` (of resumable uploads) and ``part_failures`` (part number ->
    how many 503s to answer before accepting it).
    """

    collection = "datasets"

    def __init__(self, fake: "support.FakePlatform") -> None:
        self.datasets: Dict[str, Dict[str, Any]] = {}
        # dataset id -> version ("draft", "1", ...) -> path -> bytes
        self.files: Dict[str, Dict[str, Dict[str, bytes]]] = {}
        self.quota_bytes: Optional[int] = None
        self.wrong_sha = False
        self.wrong_etag = False
        self.part_size = 1024
        self.part_failures: Dict[int, int] = {}
        # upload id -> {"dataset", "path", "size", "sha256", "parts": {number: bytes}}
        self.uploads: Dict[str, Dict[str, Any]] = {}
        fake.handlers.append(self.handle)

    def add(self, name: str, **fields: Any) -> Dict[str, Any]:
        """Create a dataset directly in the store."""
        dataset_id = str(uuid.uuid4())
        self.datasets[dataset_id] = {
            "id": dataset_id, "accountId": fields.get("accountId") or support.ME["currentAccountId"], "name": name,
            "description": fields.get("description", ""), "license": fields.get("license"),
            "tags": list(fields.get("tags", [])), "createdAt": NOW, "updatedAt": NOW, "latestVersion": None,
        }
        self.files[dataset_id] = {"draft": {}}
        return self._dataset(dataset_id)

    def used(self) -> int:
        return sum(len(b) for versions in self.files.values() for files in versions.values() for b in files.values())

    def _summary(self, dataset_id: str, version: str) -> Dict[str, Any]:
        files = self.files[dataset_id][version]
        manifest = "".join(f"{p}\t{hashlib.sha256(b).hexdigest()}\n" for p, b in sorted(files.items()))
        return {"version": version, "fileCount": len(files), "totalBytes": sum(len(b) for b in files.values()),
                "createdAt": NOW, "publishedAt": None if version == "draft" else NOW,
                "manifestSha256": hashlib.sha256(manifest.encode()).hexdigest()}

    def _dataset(self, dataset_id: str) -> Dict[str, Any]:
        return dict(self.datasets[dataset_id], draft=self._summary(dataset_id, "draft"))

    def handle(self, seen: "support.Seen") -> Optional["support.Reply"]:
        path, _, query = seen.path.partition("?")
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        parts = path.split("/")[3:]  # after "", "api", "v1"
        if parts[:1] == ["accounts"] and len(parts) == 3 and parts[2] == "storage" and seen.method == "GET":
            used = self.used()
            quota = self.quota_bytes if self.quota_bytes is not None else 10 ** 12
            return support.Reply(body={"accountId": parts[1], "usedBytes": used, "quotaBytes": quota, "leftBytes": quota - used})
        if parts[:1] != [self.collection]:
            return None
        if len(parts) == 2 and parts[1] == "resolve" and seen.method == "GET":
            return self._resolve(params)
        if len(parts) == 1:
            return self._list(params) if seen.method == "GET" else self._create(seen) if seen.method == "POST" else None
        dataset_id = parts[1]
        if dataset_id not in self.datasets:
            return support.problem(404, "Not Found", f"Dataset {dataset_id} was not found.")
        rest = parts[2:]
        extra = self._extra(dataset_id, rest, seen)
        if extra is not None:
            return extra
        if not rest:
            if seen.method == "DELETE":
                del self.datasets[dataset_id], self.files[dataset_id]
                return support.Reply(status=204)
            return support.Reply(body=self._dataset(dataset_id)) if seen.method == "GET" else None
        if rest[:2] == ["draft", "uploads"]:
            return self._uploads(dataset_id, rest[2:], seen)
        if rest[:2] == ["draft", "files"] and seen.method == "PUT":
            return self._put(dataset_id, "/".join(rest[2:]), seen)
        if rest[:2] == ["draft", "files"] and seen.method == "DELETE":
            path = "/".join(urllib.parse.unquote(s) for s in rest[2:])
            if self.files[dataset_id]["draft"].pop(path, None) is None:
                return support.problem(404, "Not Found", f"File '{path}' in the draft was not found.")
            return support.Reply(status=204)
        if rest == ["draft", "publish"] and seen.method == "POST":
            return self._publish(dataset_id)
        if rest[0] == "versions" and len(rest) >= 2:
            version = self._version(dataset_id, urllib.parse.unquote(rest[1]))
            if version is None:
                return support.problem(404, "Not Found", f"Version {rest[1]} was not found.")
            if len(rest) == 2 and seen.method == "DELETE":
                del self.files[dataset_id][version]
                return support.Reply(status=204)
            if rest[2:3] == ["files"] and len(rest) == 3 and seen.method == "GET":
                return self._list_files(dataset_id, version, params)
            if rest[2:3] == ["files"] and seen.method == "GET":
                return self._get_file(dataset_id, version, "/".join(rest[3:]), seen)
        return None

    def _extra(self, dataset_id: str, rest: List[str], seen: "support.Seen") -> Optional["support.Reply"]:
        """Routes only a subclass's kind has (models: aliases, metadata); None to fall through."""
        return None

    def _resolve(self, params: Dict[str, str]) -> Optional["support.Reply"]:
        return None

    def _version(self, dataset_id: str, version: str) -> Optional[str]:
        if version == "latest":
            latest = self.datasets[dataset_id]["latestVersion"]
            return None if latest is None else str(latest)
        return version if version in self.files[dataset_id] else None

    def _list(self, params: Dict[str, str]) -> "support.Reply":
        page, size = int(params.get("page", 1)), int(params.get("pageSize", 20))
        search = params.get("search", "")
        found = [self._dataset(i) for i, d in sorted(self.datasets.items(), key=lambda kv: kv[1]["name"]) if search in d["name"]]
        return support.Reply(body={"items": found[(page - 1) * size: page * size], "total": len(found), "page": page, "pageSize": size})

    def _create(self, seen: "support.Seen") -> "support.Reply":
        body = json.loads(seen.body)
        if not NAME.match(body.get("name") or ""):
            return support.problem(400, "One or more validation errors occurred.",
                                   errors={"name": ["Use lowercase letters, digits, '.', '_' and '-'."]})
        if any(d["name"] == body["name"] for d in self.datasets.values()):
            return support.problem(409, "Conflict", f"A dataset named {body['name']} already exists.")
        return support.Reply(status=201, body=self.add(body.pop("name"), **body))

    def _put(self, dataset_id: str, quoted: str, seen: "support.Seen") -> "support.Reply":
        path = "/".join(urllib.parse.unquote(s) for s in quoted.split("/"))
        if not quoted or any(s in ("", ".", "..") for s in path.split("/")) or "\\" in path:
            return support.problem(400, "One or more validation errors occurred.",
                                   errors={"path": [f"'{path}' is not a valid file path."]})
        if self.quota_bytes is not None and self.used() + len(seen.body) > self.quota_bytes:
            return support.problem(413, "Payload Too Large",
                                   f"Storage quota exceeded: {len(seen.body)} bytes needed, {self.quota_bytes - self.used()} left.")
        self.files[dataset_id]["draft"][path] = seen.body
        sha = hashlib.sha256(seen.body).hexdigest()
        if self.wrong_sha:
            sha = hashlib.sha256(seen.body + b"x").hexdigest()
        return support.Reply(body={"path": path, "size": len(seen.body), "sha256": sha, "addedAt": NOW})

    def _publish(self, dataset_id: str) -> "support.Reply":
        draft = self.files[dataset_id]["draft"]
        if not draft:
            return support.problem(409, "Conflict", "The draft has no files to publish.")
        number = (self.datasets[dataset_id]["latestVersion"] or 0) + 1
        self.files[dataset_id][str(number)] = dict(draft)
        self.datasets[dataset_id]["latestVersion"] = number
        return support.Reply(body=self._summary(dataset_id, str(number)))

    def _list_files(self, dataset_id: str, version: str, params: Dict[str, str]) -> "support.Reply":
        limit = min(int(params.get("limit", 1000)), 1000)
        paths = sorted(p for p in self.files[dataset_id][version]
                       if p.startswith(params.get("prefix", "")) and p > params.get("after", ""))
        page = paths[:limit]
        items: List[Dict[str, Any]] = []
        for p in page:
            data = self.files[dataset_id][version][p]
            items.append({"path": p, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "addedAt": NOW})
        return support.Reply(body={"items": items, "next": page[-1] if len(paths) > limit else None})

    def _get_file(self, dataset_id: str, version: str, quoted: str, seen: "support.Seen") -> "support.Reply":
        path = "/".join(urllib.parse.unquote(s) for s in quoted.split("/"))
        data = self.files[dataset_id][version].get(path)
        if data is None:
            return support.problem(404, "Not Found", f"No file {path}.")
        sha = hashlib.sha256(data + (b"x" if self.wrong_etag else b"")).hexdigest()
        headers = {"ETag": f'"{sha}"', "Accept-Ranges": "bytes"}
        match = re.match(r"^bytes=(\d+)-(\d*)$", seen.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            if start >= len(data):
                return support.problem(416, "Range Not Satisfiable")
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return support.Reply(status=206, body=data[start:end + 1], content_type="application/octet-stream", headers=headers)
        return support.Reply(body=data, content_type="application/octet-stream", headers=headers)

    # -- resumable uploads (POST .../draft/uploads, PUT .../parts/{n}, GET, POST .../complete, DELETE) --------

    def _upload_body(self, upload_id: str) -> Dict[str, Any]:
        upload = self.uploads[upload_id]
        count = -(-upload["size"] // self.part_size)
        return {"uploadId": upload_id, "path": upload["path"], "size": upload["size"], "sha256": upload["sha256"],
                "partSize": self.part_size, "partCount": count, "received": sorted(upload["parts"]),
                "receivedBytes": sum(len(b) for b in upload["parts"].values()), "createdAt": NOW, "expiresAt": NOW}

    def _uploads(self, dataset_id: str, rest: List[str], seen: "support.Seen") -> Optional["support.Reply"]:
        if not rest and seen.method == "POST":
            body = json.loads(seen.body)
            size = int(body["size"])
            if self.quota_bytes is not None and self.used() + size > self.quota_bytes:
                left = self.quota_bytes - self.used()
                return support.problem(413, "Storage quota exceeded", f"Storage quota exceeded: this file is {size} bytes "
                                       f"and the account has {left} of {self.quota_bytes} bytes left.",
                                       sizeBytes=size, leftBytes=left, quotaBytes=self.quota_bytes)
            upload_id = str(uuid.uuid4())
            self.uploads[upload_id] = {"dataset": dataset_id, "path": body["path"], "size": size,
                                       "sha256": body.get("sha256"), "parts": {}}
            return support.Reply(status=201, body=self._upload_body(upload_id))
        upload = self.uploads.get(rest[0]) if rest else None
        if upload is None or upload["dataset"] != dataset_id:
            return support.problem(404, "Not Found", "The upload was not found.")
        upload_id = rest[0]
        if len(rest) == 1 and seen.method == "GET":
            return support.Reply(body=self._upload_body(upload_id))
        if len(rest) == 1 and seen.method == "DELETE":
            del self.uploads[upload_id]
            return support.Reply(status=204)
        if len(rest) == 3 and rest[1] == "parts" and seen.method == "PUT":
            number = int(rest[2])
            if self.part_failures.get(number, 0) > 0:
                self.part_failures[number] -= 1
                return support.problem(503, "Service Unavailable", "Try again.")
            expected = min(self.part_size, upload["size"] - (number - 1) * self.part_size)
            if len(seen.body) != expected:
                return support.problem(400, "One or more validation errors occurred.",
                                       errors={"length": [f"Part {number} must be exactly {expected} bytes."]})
            upload["parts"][number] = seen.body
            return support.Reply(body={"number": number, "size": len(seen.body), "expiresAt": NOW})
        if rest[1:] == ["complete"] and seen.method == "POST":
            count = -(-upload["size"] // self.part_size)
            if sorted(upload["parts"]) != list(range(1, count + 1)):
                return support.problem(409, "Conflict", "Some parts have not arrived.")
            data = b"".join(upload["parts"][n] for n in range(1, count + 1))
            sha = hashlib.sha256(data).hexdigest()
            del self.uploads[upload_id]
            if upload["sha256"] and upload["sha256"] != sha:
                return support.problem(400, "One or more validation errors occurred.", errors={"sha256": ["wrong"]})
            self.files[dataset_id]["draft"][upload["path"]] = data
            return support.Reply(body={"path": upload["path"], "size": len(data), "sha256": sha, "addedAt": NOW})
        return None
