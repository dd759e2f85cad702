"""The datasets fake as a models API: metadata, aliases, versions and name resolution on top."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any, Dict, List, Optional

try:
    from . import fake_datasets, support
except ImportError:  # started with tests/ as the top-level directory
    import fake_datasets
    import support

ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")
METADATA = ("framework", "format", "metrics", "inputSchema", "outputSchema")


class FakeModels(fake_datasets.FakeDatasets):
    """Models kept like the fake's datasets, plus ``aliases`` (alias -> version number) per model."""

    collection = "models"

    def add(self, name: str, **fields: Any) -> Dict[str, Any]:
        model = super().add(name, **fields)
        stored = self.datasets[model["id"]]
        stored.update({k: fields.get(k) for k in METADATA}, aliases={})
        if stored["framework"]:
            stored["framework"] = stored["framework"].lower()
        return self._dataset(model["id"])

    def _list(self, params: Dict[str, str]) -> "support.Reply":
        reply = super()._list(params)
        if params.get("framework"):
            items = [m for m in reply.body["items"] if m.get("framework") == params["framework"].lower()]
            reply.body.update(items=items, total=len(items))
        return reply

    def _version(self, model_id: str, version: str) -> Optional[str]:
        aliases = self.datasets[model_id]["aliases"]
        return str(aliases[version]) if version in aliases else super()._version(model_id, version)

    def _versions(self, model_id: str) -> List[Dict[str, Any]]:
        numbers = sorted((int(v) for v in self.files[model_id] if v != "draft"), reverse=True)
        aliases = self.datasets[model_id]["aliases"]
        return [dict(self._summary(model_id, str(n)), aliases=sorted(a for a, v in aliases.items() if v == n)) for n in numbers]

    def _resolve(self, params: Dict[str, str]) -> "support.Reply":
        name, _, version = params.get("ref", "").partition("@")
        found = [i for i, m in self.datasets.items() if m["name"] == name]
        resolved = self._version(found[0], version or "latest") if found else None
        if resolved is None:
            return support.problem(404, "Not Found", f"Model '{name}' or its version '{version}' was not found.")
        summary = dict(self._summary(found[0], resolved), aliases=[])
        return support.Reply(body={"model": self._dataset(found[0]), "version": summary})

    def _extra(self, model_id: str, rest: List[str], seen: "support.Seen") -> Optional["support.Reply"]:
        model = self.datasets[model_id]
        if not rest and seen.method == "PATCH":
            body = json.loads(seen.body)
            model.update({k: v for k, v in body.items() if k in METADATA + ("description", "license", "tags")})
            return support.Reply(body=self._dataset(model_id))
        if rest == ["versions"] and seen.method == "GET":
            return support.Reply(body=self._versions(model_id))
        if len(rest) == 2 and rest[0] == "aliases":
            alias = urllib.parse.unquote(rest[1])
            if seen.method == "DELETE":
                if model["aliases"].pop(alias, None) is None:
                    return support.problem(404, "Not Found", f"Alias '{alias}' was not found.")
                return support.Reply(status=204)
            if seen.method == "PUT":
                if not ALIAS.match(alias) or alias in ("latest", "draft"):
                    return support.problem(400, "One or more validation errors occurred.", errors={"alias": ["Use 1 to 50 lowercase letters."]})
                version = self._version(model_id, str(json.loads(seen.body).get("version")))
                if version is None or version == "draft":
                    return support.problem(404, "Not Found", "Version was not found.")
                model["aliases"][alias] = int(version)
                return support.Reply(body=self._dataset(model_id))
        return None
