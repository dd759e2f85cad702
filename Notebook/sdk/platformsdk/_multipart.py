"""Resumable uploads in parts, for files larger than one part.

The server hands out an upload id and a part size; each part is sent on its own
request and retried with backoff when the connection drops or the server is
briefly away. A small state file remembers the upload id, so running the same
upload again after an interruption (Ctrl+C, a lost network, a crash) asks the
server which parts arrived and sends only the others.

State files live in ``$XDG_CACHE_HOME/platformsdk/uploads`` (default
``~/.cache/platformsdk/uploads``), one per server, dataset, remote path, size
and modification time, so a changed file starts a fresh upload.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Dict, Optional

from ._transfer import CHUNK_SIZE, ProgressCallback, sha256_of_file
from .errors import NotFoundError, PlatformConnectionError, PlatformError, ServerError

if TYPE_CHECKING:
    from .client import Client

# Files above this size go in parts (the server's usual part size); smaller ones in one request.
PART_THRESHOLD = 16 * 1024 * 1024

# Attempts per part and the first pause between them (doubled after each failure).
ATTEMPTS = 6
FIRST_BACKOFF = 1.0


def state_folder() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "platformsdk", "uploads")


def state_path(server: str, artifact_id: str, remote: str, size: int, mtime_ns: int) -> str:
    key = json.dumps([server.rstrip("/"), artifact_id, remote, size, mtime_ns])
    return os.path.join(state_folder(), hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")


class _PartReader(io.RawIOBase):
    """``length`` bytes of a file from ``offset``, reporting progress as they are read."""

    def __init__(self, handle: BinaryIO, offset: int, length: int, progress: Optional[ProgressCallback],
                 base: int, total: int) -> None:
        super().__init__()
        handle.seek(offset)
        self._handle = handle
        self._left = length
        self._progress = progress
        self._base = base
        self._total = total
        self.sent = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = CHUNK_SIZE if size is None or size < 0 else min(size, CHUNK_SIZE)
        data = self._handle.read(min(size, self._left))
        self._left -= len(data)
        self.sent += len(data)
        if data and self._progress is not None:
            self._progress(self._base + self.sent, self._total)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _retrying(what: str, action: Any) -> Any:
    """Run ``action()``; on a dropped connection or a 5xx, wait and try again, ``ATTEMPTS`` times in all."""
    pause = FIRST_BACKOFF
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return action()
        except (PlatformConnectionError, ServerError) as exc:
            if attempt == ATTEMPTS:
                raise PlatformError(0, "Upload interrupted", f"{what} failed {ATTEMPTS} times ({exc}); run the upload "
                                    "again to continue from the parts already sent") from exc
            time.sleep(pause)
            pause = min(pause * 2, 30.0)
    raise AssertionError("unreachable")  # pragma: no cover


def upload_in_parts(client: "Client", base: str, artifact_id: str, local_path: str, remote: str,
                    progress: Optional[ProgressCallback] = None) -> Dict[str, Any]:
    """Upload ``local_path`` to ``remote`` in the draft under ``base`` (``/datasets/{id}``), resuming a left upload."""
    stat = os.stat(local_path)
    size = stat.st_size
    state_file = state_path(client.config.api_url, artifact_id, remote, size, stat.st_mtime_ns)
    upload = _resume(client, base, state_file)
    if upload is None:
        sha256 = sha256_of_file(local_path)
        upload = client.request("POST", f"{base}/draft/uploads", json={"path": remote, "size": size, "sha256": sha256})
        os.makedirs(os.path.dirname(state_file), exist_ok=True)
        with open(state_file, "w", encoding="utf-8") as handle:
            json.dump({"uploadId": upload["uploadId"], "sha256": sha256, "path": remote, "size": size}, handle)
    else:
        with open(state_file, encoding="utf-8") as handle:
            sha256 = json.load(handle)["sha256"]

    url = f"{base}/draft/uploads/{upload['uploadId']}"
    part_size, count = int(upload["partSize"]), int(upload["partCount"])
    received = set(int(n) for n in upload.get("received") or [])
    done = int(upload.get("receivedBytes") or 0)
    if progress is not None:
        progress(done, size)
    try:
        with open(local_path, "rb") as handle:
            for number in range(1, count + 1):
                if number in received:
                    continue
                offset = (number - 1) * part_size
                length = min(part_size, size - offset)

                def send(number: int = number, offset: int = offset, length: int = length) -> None:
                    reader = _PartReader(handle, offset, length, progress, done, size)
                    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length), "Accept": "application/json"}
                    with client.request_raw("PUT", f"{url}/parts/{number}", body=reader, headers=headers) as response:
                        response.read()

                _retrying(f"part {number} of {count} of {remote}", send)
                done += length
        entry = _retrying(f"completing {remote}", lambda: _complete(client, base, url, remote, sha256))
    except NotFoundError:
        # The upload expired or was cancelled: the next run starts a new one.
        _forget(state_file)
        raise
    _forget(state_file)
    if str(entry.get("sha256", "")).lower() != sha256:
        raise PlatformError(0, "Checksum mismatch", f"the platform stored {remote} with sha256 {entry.get('sha256')} "
                            f"but the local file hashes to {sha256}")
    return entry


def _complete(client: "Client", base: str, url: str, remote: str, sha256: str) -> Dict[str, Any]:
    try:
        return client.request("POST", f"{url}/complete")
    except NotFoundError:
        # A completion whose answer was lost: the file is in the draft already.
        answer = client.request("GET", f"{base}/versions/draft/files", params={"prefix": remote, "limit": 1})
        for entry in answer.get("items") or []:
            if entry.get("path") == remote and str(entry.get("sha256", "")).lower() == sha256:
                return entry
        raise


def _resume(client: "Client", base: str, state_file: str) -> Optional[Dict[str, Any]]:
    """The open upload a state file names, or None (no file, unreadable, or gone on the server)."""
    try:
        with open(state_file, encoding="utf-8") as handle:
            upload_id = json.load(handle)["uploadId"]
    except (OSError, ValueError, KeyError):
        return None
    try:
        return client.request("GET", f"{base}/draft/uploads/{upload_id}")
    except NotFoundError:
        _forget(state_file)
        return None


def _forget(state_file: str) -> None:
    try:
        os.remove(state_file)
    except FileNotFoundError:
        pass
