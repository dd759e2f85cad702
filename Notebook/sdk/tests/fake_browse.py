"""Archives, previews and diffs for FakeDatasets, shaped like the server's answers."""

from __future__ import annotations

import csv
import hashlib
import io
import urllib.parse
import zipfile
from typing import Any, Dict, Optional

try:
    from . import support
    from .fake_datasets import FakeDatasets
except ImportError:  # started with tests/ as the top-level directory
    import support
    from fake_datasets import FakeDatasets


class FakeBrowse:
    """Installed after FakeDatasets, which answers 404 for unknown datasets and versions before this is asked."""

    def __init__(self, fake: "support.FakePlatform", store: FakeDatasets) -> None:
        self.store = store
        fake.handlers.append(self.handle)

    def handle(self, seen: "support.Seen") -> Optional["support.Reply"]:
        path, _, query = seen.path.partition("?")
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        parts = path.split("/")[3:]
        if seen.method != "GET" or parts[:1] != ["datasets"] or len(parts) < 5 or parts[2] != "versions":
            return None
        dataset_id = parts[1]
        version = self.store._version(dataset_id, urllib.parse.unquote(parts[3]))
        if version is None:
            return None
        files = self.store.files[dataset_id][version]
        if parts[4] == "archive" and len(parts) == 5:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name in sorted(p for p in files if p.startswith(params.get("prefix", ""))):
                    archive.writestr(name, files[name])
            name = self.store.datasets[dataset_id]["name"]
            return support.Reply(body=buffer.getvalue(), content_type="application/zip",
                                 headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}-v{version}.zip"})
        if parts[4] == "preview":
            return self._preview("/".join(urllib.parse.unquote(s) for s in parts[5:]), files)
        if parts[4] == "diff" and len(parts) == 6:
            other = self.store._version(dataset_id, urllib.parse.unquote(parts[5]))
            if other is None:
                return support.problem(404, "Not Found", f"Version '{parts[5]}' was not found.")
            return self._diff(files, self.store.files[dataset_id][other], params, parts[3], parts[5])
        return None

    @staticmethod
    def _preview(path: str, files: Dict[str, bytes]) -> "support.Reply":
        data = files.get(path)
        if data is None:
            return support.problem(404, "Not Found", f"File '{path}' was not found.")
        if path.endswith(".csv"):
            records = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            return support.Reply(body={"kind": "table", "path": path, "size": len(data), "columns": records[0],
                                       "rows": records[1:51], "truncated": len(records) > 51})
        return support.Reply(body={"kind": "text", "path": path, "size": len(data), "text": data.decode("utf-8"),
                                   "truncated": False})

    @staticmethod
    def _diff(before: Dict[str, bytes], after: Dict[str, bytes], params: Dict[str, str], a: str, b: str) -> "support.Reply":
        def entry(path: str, data: bytes) -> Dict[str, Any]:
            return {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

        paths = sorted(set(before) | set(after))
        differing = [p for p in paths if before.get(p) != after.get(p)]
        start = params.get("after", "")
        limit = int(params.get("limit", 100))
        page = [p for p in differing if p > start][:limit]
        more = len([p for p in differing if p > start]) > limit
        body = {
            "from": a, "to": b,
            "added": [entry(p, after[p]) for p in page if p not in before],
            "removed": [entry(p, before[p]) for p in page if p not in after],
            "changed": [{"path": p, "sizeBefore": len(before[p]), "sizeAfter": len(after[p]),
                         "sha256Before": hashlib.sha256(before[p]).hexdigest(),
                         "sha256After": hashlib.sha256(after[p]).hexdigest()}
                        for p in page if p in before and p in after],
            "counts": {"added": len(set(after) - set(before)), "removed": len(set(before) - set(after)),
                       "changed": len([p for p in differing if p in before and p in after]),
                       "unchanged": len(paths) - len(differing)},
            "next": page[-1] if more else None,
        }
        return support.Reply(body=body)
