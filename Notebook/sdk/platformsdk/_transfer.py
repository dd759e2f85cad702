"""Streaming helpers for dataset transfers: hashing readers, chunked copies, progress.

Files can be far larger than memory, so every transfer moves fixed-size chunks
and hashes them on the way through instead of reading whole files.
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
from typing import Any, BinaryIO, Callable, Optional, TextIO

CHUNK_SIZE = 1024 * 1024

# progress(done_bytes, total_bytes) after each chunk of one file.
ProgressCallback = Callable[[int, int], None]


class HashingReader(io.RawIOBase):
    """A read-only file object that hashes what passes through it.

    Given to urllib as the request body, so the sha256 of the exact bytes sent
    is known when the upload ends without a second pass over the file.
    """

    def __init__(self, source: BinaryIO, total: int, progress: Optional[ProgressCallback] = None) -> None:
        super().__init__()
        self._source = source
        self._total = total
        self._progress = progress
        self.done = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # http.client reads in blocks of its own size; never more than a chunk at once.
        size = CHUNK_SIZE if size is None or size < 0 else min(size, CHUNK_SIZE)
        data = self._source.read(size)
        if data:
            self.sha256.update(data)
            self.done += len(data)
            if self._progress is not None:
                self._progress(self.done, self._total)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def sha256_of_file(path: str) -> str:
    """Hex sha256 of a file on disk, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def format_bytes(count: float) -> str:
    """Human size with binary units: ``1.5 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"  # pragma: no cover - loop always returns


class ProgressLine:
    """Files done/total, bytes done/total, percent and rate for a multi-file transfer.

    On a terminal one line is rewritten in place (``\\r``); elsewhere (logs, CI,
    captured stderr) a plain line is written per finished file so the output
    stays readable.
    """

    def __init__(self, verb: str, total_files: int, total_bytes: int, stream: Optional[TextIO] = None) -> None:
        self.verb = verb
        self.total_files = total_files
        self.total_bytes = total_bytes
        self.stream = stream if stream is not None else sys.stderr
        self.files_done = 0
        self.bytes_done = 0
        self._started = time.monotonic()
        self._last_draw = 0.0
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())

    def _text(self, current: str = "") -> str:
        percent = 100.0 * self.bytes_done / self.total_bytes if self.total_bytes else 100.0
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = format_bytes(self.bytes_done / elapsed)
        text = (f"{self.verb} {self.files_done}/{self.total_files} files, "
                f"{format_bytes(self.bytes_done)}/{format_bytes(self.total_bytes)} ({percent:.0f}%), {rate}/s")
        return f"{text} {current}".rstrip()

    def file_progress(self, base: int) -> ProgressCallback:
        """A per-file callback that moves the byte count on from ``base``."""
        def update(done: int, _total: int) -> None:
            self.bytes_done = base + done
            now = time.monotonic()
            # Redraw at most ten times a second; a terminal write per chunk slows fast links.
            if self.tty and now - self._last_draw > 0.1:
                self._last_draw = now
                self.stream.write("\r\x1b[K" + self._text())
                self.stream.flush()
        return update

    def file_done(self, path: str, size: int, base: int) -> None:
        """Count one finished file of ``size`` bytes that started at byte ``base``."""
        self.files_done += 1
        self.bytes_done = base + size
        if self.tty:
            self.stream.write("\r\x1b[K" + self._text())
        else:
            self.stream.write(self._text(path) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the updating line so the next output starts on its own line."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
