"""Datasets: versioned file collections, reached as ``client.datasets``.

A dataset is named by its id or its name; a name may carry a version after
``@`` (``"images@3"``, ``"images@latest"``, ``"images@draft"``). Reads default
to the latest published version and writes always go to the draft.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _multipart
from ._browse import Browsing
from ._transfer import CHUNK_SIZE, HashingReader, ProgressCallback, ProgressLine, sha256_of_file
from .errors import ConflictError, NotFoundError, PlatformError

if TYPE_CHECKING:
    from .client import Client

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Ref = Union[str, Dict[str, Any]]


def parse_ref(ref: str) -> Tuple[str, Optional[str]]:
    """Split ``"name@version"`` into ``("name", "version")``; no ``@`` gives ``(ref, None)``."""
    name, sep, version = ref.partition("@")
    if sep and not version:
        raise ValueError(f"empty version in dataset reference {ref!r}")
    return name, (version if sep else None)


def format_ref(name: str, version: Union[str, int, None] = None) -> str:
    """The inverse of ``parse_ref``: ``format_ref("images", 3) == "images@3"``."""
    return name if version is None else f"{name}@{version}"


def quote_path(path: str) -> str:
    """URL-encode each segment of a file path, keeping the ``/`` separators."""
    return "/".join(urllib.parse.quote(segment, safe="") for segment in path.split("/"))


class Artifacts(Browsing):
    """The endpoints datasets and models share (files, drafts, versions, sharing; archives, previews and diffs
    from ``Browsing``), for one client.

    ``collection`` is the API group ("datasets", "models"); subclasses add what
    only their kind has.
    """

    collection = "datasets"
    noun = "dataset"

    def __init__(self, client: "Client") -> None:
        self.client = client

    # -- datasets -----------------------------------------------------------------

    def list(self, search: Optional[str] = None, page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Yield every dataset visible to the caller, fetching page after page."""
        return self._pages({"search": search}, page_size)

    def _pages(self, params: Dict[str, Any], page_size: int) -> Iterator[Dict[str, Any]]:
        page = 1
        seen = 0
        while True:
            answer = self.client.request("GET", f"/{self.collection}", params=dict(params, page=page, pageSize=page_size))
            items = answer.get("items") or []
            yield from items
            seen += len(items)
            # Stop on an empty page too, so a total that shrinks mid-listing cannot loop forever.
            if not items or seen >= int(answer.get("total") or 0):
                return
            page += 1

    def get(self, ref: Ref) -> Dict[str, Any]:
        """Return one dataset by id or name."""
        dataset_id, _ = self._resolve(ref)
        return self.client.request("GET", f"/{self.collection}/{dataset_id}")

    def create(
        self,
        name: str,
        description: str = "",
        license: Optional[str] = None,  # noqa: A002 - the API's field name
        tags: Sequence[str] = (),
        account_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Create a dataset (in the caller's current account unless ``account_id``)."""
        body = {"accountId": account_id, "name": name, "description": description, "license": license, "tags": list(tags)}
        return self.client.request("POST", f"/{self.collection}", json=body)

    def delete(self, ref: Ref) -> None:
        """Delete a dataset with all its versions and files."""
        dataset_id, _ = self._resolve(ref)
        self.client.request("DELETE", f"/{self.collection}/{dataset_id}")

    def publish(self, ref: Ref) -> Dict[str, Any]:
        """Freeze the draft into the next numbered version and return that version."""
        dataset_id, _ = self._resolve(ref)
        return self.client.request("POST", f"/{self.collection}/{dataset_id}/draft/publish")

    def delete_version(self, ref: Ref, version: Union[int, str]) -> None:
        """Delete one published version, freeing the storage only it used."""
        dataset_id, _ = self._resolve(ref)
        self.client.request("DELETE", f"/{self.collection}/{dataset_id}/versions/{version}")

    def usage(self, account_id: Optional[str] = None) -> Dict[str, Any]:
        """Storage used, quota and space left for an account (default: the current one)."""
        if account_id is None:
            account_id = self.client.whoami().get("currentAccountId")
            if not account_id:
                raise ValueError("the caller has no current account; pass account_id")
        return self.client.request("GET", f"/accounts/{urllib.parse.quote(str(account_id), safe='')}/storage")

    # -- sharing -------------------------------------------------------------------

    def shares(self, ref: Ref) -> List[Dict[str, Any]]:
        """Who the dataset is shared with (members of the owning account may ask)."""
        dataset_id, _ = self._resolve(ref)
        return list(self.client.request("GET", f"/{self.collection}/{dataset_id}/shares") or [])

    def share(self, ref: Ref, user: Optional[str] = None, account: Optional[str] = None,
              access: str = "read") -> Dict[str, Any]:
        """Share with a user (by e-mail) or with every member of an account (by id), ``read`` or ``write``."""
        if (user is None) == (account is None):
            raise ValueError("give exactly one of user (an e-mail) or account (an account id)")
        if access not in ("read", "write"):
            raise ValueError("access is 'read' or 'write'")
        dataset_id, _ = self._resolve(ref)
        body = {"email": user, "accountId": account, "access": access}
        return self.client.request("POST", f"/{self.collection}/{dataset_id}/shares", json=body)

    def unshare(self, ref: Ref, grantee: str) -> Dict[str, Any]:
        """Revoke a share, named by its id, the user's e-mail or the account's id; it stops working at once."""
        dataset_id, _ = self._resolve(ref)
        wanted = grantee.strip().lower()
        for entry in self.shares(dataset_id):
            if wanted in (str(entry.get("id", "")).lower(), str(entry.get("granteeId", "")).lower(),
                          str(entry.get("granteeName", "")).lower()):
                self.client.request("DELETE", f"/{self.collection}/{dataset_id}/shares/{entry['id']}")
                return entry
        raise LookupError(f"no share of this dataset matches {grantee!r}")

    def set_public(self, ref: Ref, public: bool = True) -> Dict[str, Any]:
        """Put the dataset in the public catalog (readable by every signed-in user), or take it out."""
        dataset_id, _ = self._resolve(ref)
        return self.client.request("PUT" if public else "DELETE", f"/{self.collection}/{dataset_id}/public")

    # -- files ---------------------------------------------------------------------

    def files(self, ref: Ref, version: Union[str, int, None] = None, prefix: Optional[str] = None,
              limit: int = 1000) -> Iterator[Dict[str, Any]]:
        """Yield the files of a version (default: the ref's ``@version``, else latest), in path order."""
        dataset_id, version = self._resolve(ref, version, "latest")
        after = None
        while True:
            params = {"prefix": prefix, "after": after, "limit": limit}
            answer = self.client.request("GET", f"/{self.collection}/{dataset_id}/versions/{version}/files", params=params)
            yield from answer.get("items") or []
            after = answer.get("next")
            if not after:
                return

    def upload_file(self, ref: Ref, local_path: str, remote_path: Optional[str] = None,
                    progress: Optional[ProgressCallback] = None) -> Dict[str, Any]:
        """Stream one file into the draft and return the server's entry for it.

        Files larger than one part (16 MiB) are sent in parts, each retried when
        the connection drops; running the same upload again after an
        interruption sends only the parts the server lacks (see ``_multipart``).

        The file is hashed while it is sent; a server sha256 that differs from
        the bytes read raises PlatformError, since the stored copy is not the
        local one. ``progress(done, total)`` is called after each chunk.
        """
        dataset_id, _ = self._resolve(ref, None, "draft", writing=True)
        remote = remote_path if remote_path is not None else os.path.basename(local_path)
        if os.path.getsize(local_path) > _multipart.PART_THRESHOLD:
            # Large files go in parts, each retried, and resume where an interrupted run stopped.
            return _multipart.upload_in_parts(self.client, f"/datasets/{dataset_id}", dataset_id, local_path, remote, progress)
        with open(local_path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            reader = HashingReader(handle, size, progress)
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size), "Accept": "application/json"}
            response = self.client.request_raw(
                "PUT", f"/{self.collection}/{dataset_id}/draft/files/{quote_path(remote)}", body=reader, headers=headers)
            with response:
                entry = json.loads(response.read().decode("utf-8"))
        if reader.done != size:
            raise PlatformError(0, "Upload incomplete", f"{local_path} changed size while it was uploaded "
                                f"({reader.done} of {size} bytes sent)")
        local_sha = reader.sha256.hexdigest()
        if str(entry.get("sha256", "")).lower() != local_sha:
            raise PlatformError(0, "Checksum mismatch", f"the platform stored {remote} with sha256 "
                                f"{entry.get('sha256')} but the bytes sent hash to {local_sha}")
        return entry

    def upload_folder(self, ref: Ref, folder: str, prefix: str = "", progress: bool = True) -> Dict[str, Any]:
        """Upload every file under ``folder`` with its relative POSIX path after ``prefix``.

        Symlinks are followed; a broken link, a special file or a directory
        loop raises instead of being skipped, so the draft never silently lacks
        a file. Returns ``{"files": n, "bytes": total, "uploaded": [entries]}``.
        """
        dataset_id, _ = self._resolve(ref, None, "draft", writing=True)
        found = list(walk_files(folder))
        sizes = [os.path.getsize(path) for path, _ in found]
        line = ProgressLine("uploaded", len(found), sum(sizes)) if progress else None
        uploaded: List[Dict[str, Any]] = []
        base = 0
        try:
            for (path, relative), size in zip(found, sizes):
                remote = f"{prefix.strip('/')}/{relative}" if prefix.strip("/") else relative
                callback = line.file_progress(base) if line else None
                uploaded.append(self.upload_file(dataset_id, path, remote, progress=callback))
                if line:
                    line.file_done(remote, size, base)
                base += size
        finally:
            if line:
                line.close()
        return {"files": len(uploaded), "bytes": base, "uploaded": uploaded}

    def open(self, ref: Ref, remote_path: str, version: Union[str, int, None] = None) -> Any:
        """Open a stored file for reading; the answer streams from the HTTP response.

        Use it as a context manager (``with ds.open(...) as f: f.read(1024)``).
        """
        dataset_id, version = self._resolve(ref, version, "latest")
        return self.client.request_raw(
            "GET", f"/{self.collection}/{dataset_id}/versions/{version}/files/{quote_path(remote_path)}")

    def download_file(self, ref: Ref, remote_path: str, local_path: str, version: Union[str, int, None] = None,
                      resume: bool = True, progress: Optional[ProgressCallback] = None) -> str:
        """Download one file to ``local_path`` through ``local_path + ".part"``; return the path.

        A ``.part`` left by an interrupted download is continued with a Range
        request. The sha256 is checked at the end; on a mismatch the partial
        file is removed and PlatformError raised.
        """
        from ._download import download_file

        dataset_id, version = self._resolve(ref, version, "latest")
        url_path = f"/{self.collection}/{dataset_id}/versions/{version}/files/{quote_path(remote_path)}"

        def lookup_sha() -> Optional[str]:
            for entry in self.files(dataset_id, version, prefix=remote_path):
                if entry.get("path") == remote_path:
                    return entry.get("sha256")
            return None

        return download_file(self.client, url_path, remote_path, local_path, resume, progress, lookup_sha)

    def download(self, ref: Ref, folder: str, version: Union[str, int, None] = None, progress: bool = True) -> Dict[str, Any]:
        """Download every file of a version under ``folder``; returns ``{"files", "bytes", "paths"}``."""
        dataset_id, version = self._resolve(ref, version, "latest")
        entries = list(self.files(dataset_id, version))
        line = ProgressLine("downloaded", len(entries), sum(int(e.get("size") or 0) for e in entries)) if progress else None
        root = os.path.abspath(folder)
        paths = []
        base = 0
        try:
            for entry in entries:
                target = os.path.abspath(os.path.join(root, *entry["path"].split("/")))
                # A stored path is validated by the server, but a file must never land outside the folder.
                if os.path.commonpath([root, target]) != root:
                    raise PlatformError(0, "Unsafe path", f"refusing to write {entry['path']!r} outside {folder}")
                callback = line.file_progress(base) if line else None
                paths.append(self.download_file(dataset_id, entry["path"], target, version, progress=callback))
                size = int(entry.get("size") or 0)
                if line:
                    line.file_done(entry["path"], size, base)
                base += size
        finally:
            if line:
                line.close()
        return {"files": len(paths), "bytes": base, "paths": paths}

    # -- references ------------------------------------------------------------------

    def _resolve(self, ref: Ref, version: Union[str, int, None] = None, default: str = "latest",
                 writing: bool = False) -> Tuple[str, str]:
        """Return ``(dataset id, version)`` for an id, a name, ``name@version`` or a dataset dict."""
        if isinstance(ref, dict):
            dataset_id, ref_version = str(ref["id"]), None
        else:
            key, ref_version = parse_ref(str(ref))
            dataset_id = key if _UUID.match(key) else self._id_for_name(key)
        # An explicit argument wins over the reference's @version.
        chosen = str(version) if version is not None else (ref_version or default)
        if writing and chosen != "draft":
            raise ValueError(f"files can only be written to the draft, not to version {chosen!r}")
        return dataset_id, chosen

    def _id_for_name(self, name: str) -> str:
        matches = [d for d in self.list(search=name) if d.get("name") == name]
        if not matches:
            raise NotFoundError(404, "Not Found", f"no {self.noun} named {name!r} is visible to this key")
        if len(matches) > 1:
            accounts = ", ".join(str(d.get("accountId")) for d in matches)
            raise ConflictError(409, "Ambiguous name", f"several {self.collection} are named {name!r} (accounts {accounts}); "
                                f"use the {self.noun} id")
        return str(matches[0]["id"])


class Datasets(Artifacts):
    """The datasets endpoints for one client: ``client.datasets``."""

    collection = "datasets"
    noun = "dataset"


def walk_files(folder: str) -> Iterator[Tuple[str, str]]:
    """Yield ``(path, relative POSIX path)`` for every file under ``folder``, sorted, following symlinks."""
    if not os.path.isdir(folder):
        raise NotADirectoryError(folder)
    visiting = set()

    def walk(directory: str, relative: str) -> Iterator[Tuple[str, str]]:
        real = os.path.realpath(directory)
        if real in visiting:
            raise OSError(f"symlink loop: {directory} leads back to {real}")
        visiting.add(real)
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            rel = f"{relative}/{name}" if relative else name
            if os.path.isdir(path):
                yield from walk(path, rel)
            elif os.path.isfile(path):
                yield path, rel
            elif os.path.islink(path):
                raise FileNotFoundError(f"broken symlink: {path}")
            else:
                raise OSError(f"not a regular file: {path}")
        visiting.discard(real)

    yield from walk(folder, "")


__all__ = ["Artifacts", "Datasets", "parse_ref", "format_ref", "quote_path", "walk_files", "CHUNK_SIZE", "sha256_of_file"]
