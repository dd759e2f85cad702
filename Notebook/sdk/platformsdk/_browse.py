"""Browsing a version without downloading it file by file: a zip of it, a preview of one file, a diff of two.

Mixed into ``Datasets`` (and meant for models, which share the server's
machinery): the methods use ``self._resolve`` and the collection path.
"""

from __future__ import annotations

import http.client
import os
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple, Union

import sys
import time

from ._transfer import CHUNK_SIZE, format_bytes
from .errors import PlatformConnectionError, PlatformError

if TYPE_CHECKING:
    from .client import Client

Ref = Union[str, Dict[str, Any]]


class Browsing:
    """``archive``, ``preview`` and ``diff`` for a collection (``/datasets``, ``/models``)."""

    client: "Client"
    collection = "datasets"

    @property
    def _collection(self) -> str:
        return f"/{self.collection}"

    def _resolve(self, ref: Ref, version: Union[str, int, None] = None, default: str = "latest",
                 writing: bool = False) -> Tuple[str, str]:  # pragma: no cover - provided by the collection
        raise NotImplementedError

    def archive(self, ref: Ref, dest: str, version: Union[str, int, None] = None, prefix: Optional[str] = None,
                progress: bool = True) -> Dict[str, Any]:
        """Download a version (or the files under ``prefix``) as one zip file at ``dest``.

        The server makes the zip while it sends it, so its size is not known in
        advance: the progress line counts bytes. The zip is written to
        ``dest + ".part"`` and renamed when complete; a download that breaks
        off (the server stops a zip it cannot finish) raises and leaves no
        ``dest``. Returns ``{"path", "bytes"}``.
        """
        from .datasets import quote_path  # imported late: datasets imports this module

        dataset_id, version = self._resolve(ref, version, "latest")
        url_path = f"{self._collection}/{dataset_id}/versions/{quote_path(str(version))}/archive"
        part = dest + ".part"
        parent = os.path.dirname(os.path.abspath(dest))
        os.makedirs(parent, exist_ok=True)
        meter = _ByteMeter(os.path.basename(dest)) if progress else None
        done = 0
        try:
            response = self.client.request_raw("GET", url_path, headers={"Accept": "application/zip"},
                                               params={"prefix": prefix})
            with response, open(part, "wb") as out:
                while True:
                    block = response.read(CHUNK_SIZE)
                    if not block:
                        break
                    out.write(block)
                    done += len(block)
                    if meter:
                        meter.update(done)
        except http.client.HTTPException as exc:
            # IncompleteRead: the server aborted a zip it could not finish.
            _remove(part)
            raise PlatformConnectionError(self.client.url_for(url_path), exc) from exc
        except BaseException:
            _remove(part)
            raise
        finally:
            if meter:
                meter.close(done)
        os.replace(part, dest)
        return {"path": dest, "bytes": done}

    def preview(self, ref: Ref, path: str, version: Union[str, int, None] = None) -> Dict[str, Any]:
        """What the platform shows of one file: a table, text, an image address, or nothing with a reason.

        ``{"kind": "table", "columns", "rows", "truncated"}`` for CSV, TSV and
        JSON Lines (the first 50 rows), ``{"kind": "text", "text", "truncated"}``
        for text, ``{"kind": "image", "url", "mediaType"}`` for PNG, JPEG, GIF
        and WebP, else ``{"kind": "none", "reason"}``.
        """
        from .datasets import quote_path

        dataset_id, version = self._resolve(ref, version, "latest")
        return self.client.request("GET", f"{self._collection}/{dataset_id}/versions/{quote_path(str(version))}/preview/"
                                   f"{quote_path(path)}")

    def iter_diff(self, ref: Ref, a: Union[str, int], b: Union[str, int], page_size: int = 1000) -> Iterator[Dict[str, Any]]:
        """Yield the server's diff pages from version ``a`` to ``b`` until the last one."""
        from .datasets import quote_path

        dataset_id, _ = self._resolve(ref)
        after = None
        while True:
            page = self.client.request(
                "GET", f"{self._collection}/{dataset_id}/versions/{quote_path(str(a))}/diff/{quote_path(str(b))}",
                params={"after": after, "limit": page_size})
            yield page
            after = page.get("next")
            if not after:
                return

    def diff(self, ref: Ref, a: Union[str, int], b: Union[str, int], page_size: int = 1000) -> Dict[str, Any]:
        """Files added, removed and changed from version ``a`` to ``b`` (numbers, ``"latest"`` or ``"draft"``).

        Every page is fetched; returns ``{"added": [...], "removed": [...],
        "changed": [...], "counts": {"added", "removed", "changed", "unchanged"}}``
        with each list in path order. ``changed`` entries carry ``sizeBefore``,
        ``sizeAfter``, ``sha256Before`` and ``sha256After``.
        """
        added: List[Dict[str, Any]] = []
        removed: List[Dict[str, Any]] = []
        changed: List[Dict[str, Any]] = []
        counts: Dict[str, Any] = {}
        for page in self.iter_diff(ref, a, b, page_size):
            added.extend(page.get("added") or [])
            removed.extend(page.get("removed") or [])
            changed.extend(page.get("changed") or [])
            counts = page.get("counts") or counts
        found = len(added) + len(removed) + len(changed)
        expected = sum(int(counts.get(k) or 0) for k in ("added", "removed", "changed"))
        if counts and found != expected:
            # The draft changed while it was paged through: say so rather than hand back a mixed answer.
            raise PlatformError(0, "Diff changed", f"the pages listed {found} differences but the counts say {expected}; "
                                "a version changed while it was compared; run it again")
        return {"added": added, "removed": removed, "changed": changed, "counts": counts}


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


class _ByteMeter:
    """Bytes so far and the rate, for a download of unknown size: one rewritten line on a terminal, one line at the end elsewhere."""

    def __init__(self, name: str, stream: Any = None) -> None:
        self.name = name
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.last = 0.0
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())

    def _text(self, done: int) -> str:
        rate = done / max(time.monotonic() - self.started, 1e-6)
        return f"{self.name}: {format_bytes(done)}, {format_bytes(rate)}/s"

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.tty and now - self.last > 0.1:
            self.last = now
            self.stream.write("\r\x1b[K" + self._text(done))
            self.stream.flush()

    def close(self, done: int) -> None:
        self.stream.write(("\r\x1b[K" if self.tty else "") + self._text(done) + "\n")
        self.stream.flush()
