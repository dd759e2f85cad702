"""Models: versioned model files with metadata and aliases, reached as ``client.models``.

A model is named by its id or its name; a name may carry a version after
``@``: a number (``"digits@3"``), an alias (``"digits@production"``),
``"digits@latest"`` or ``"digits@draft"``. Names are resolved by the platform
among the models the key can read, its own accounts' first.

Files, downloads and publishing are the dataset machinery (``Artifacts``);
this module adds metadata (framework, format, schemas, metrics), aliases and
``register``: a folder in, a published version out.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any, Dict, Iterator, List, Mapping, Optional, Union

from ._transfer import ProgressLine, sha256_of_file
from .datasets import Artifacts, Ref, format_ref, parse_ref, quote_path, walk_files
from .errors import NotFoundError

class Models(Artifacts):
    """The models endpoints for one client."""

    collection = "models"
    noun = "model"

    def list(self, search: Optional[str] = None, framework: Optional[str] = None,  # type: ignore[override]
             page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Yield every model of the key's accounts and shared with it, optionally of one framework."""
        return self._pages({"search": search, "framework": framework}, page_size)

    def create(  # type: ignore[override]
        self,
        name: str,
        description: str = "",
        license: Optional[str] = None,  # noqa: A002 - the API's field name
        tags: Any = (),
        account_id: Optional[str] = None,
        framework: Optional[str] = None,
        format: Optional[str] = None,  # noqa: A002 - the API's field name
        metrics: Optional[Mapping[str, Any]] = None,
        input_schema: Optional[Mapping[str, Any]] = None,
        output_schema: Optional[Mapping[str, Any]] = None,
    ) -> Dict[str, Any]:
        """Create a model with its metadata (in the key's current account unless ``account_id``)."""
        body = {"accountId": account_id, "name": name, "description": description, "license": license, "tags": list(tags),
                "framework": framework, "format": format, "metrics": metrics, "inputSchema": input_schema,
                "outputSchema": output_schema}
        return self.client.request("POST", "/models", json=body)

    def update(self, ref: Ref, **metadata: Any) -> Dict[str, Any]:
        """Change metadata: ``description``, ``license``, ``tags``, ``framework``, ``format``,
        ``metrics``, ``input_schema``, ``output_schema``. Fields not given stay; ``None`` for a
        schema or the metrics clears it, ``""`` clears a text."""
        names = {"input_schema": "inputSchema", "output_schema": "outputSchema"}
        allowed = {"description", "license", "tags", "framework", "format", "metrics", "input_schema", "output_schema"}
        unknown = set(metadata) - allowed
        if unknown:
            raise TypeError(f"unknown model metadata: {', '.join(sorted(unknown))}")
        model_id, _ = self._resolve(ref)
        body = {names.get(k, k): (list(v) if k == "tags" and v is not None else v) for k, v in metadata.items()}
        return self.client.request("PATCH", f"/models/{model_id}", json=body)

    def resolve(self, ref: str, account_id: Optional[str] = None) -> Dict[str, Any]:
        """Resolve ``name[@version|alias]`` to ``{"model": {...}, "version": {...}}`` (default: latest)."""
        return self.client.request("GET", "/models/resolve", params={"ref": ref, "accountId": account_id})

    def versions(self, ref: Ref) -> List[Dict[str, Any]]:
        """The published versions, newest first, each with its ``aliases``."""
        model_id, _ = self._resolve(ref)
        return self.client.request("GET", f"/models/{model_id}/versions")

    def set_alias(self, ref: Ref, alias: str, version: Union[int, str]) -> Dict[str, Any]:
        """Point ``alias`` (such as ``"production"``) at a published version; moves it if it is set."""
        model_id, _ = self._resolve(ref)
        return self.client.request("PUT", f"/models/{model_id}/aliases/{urllib.parse.quote(alias, safe='')}",
                                   json={"version": str(version)})

    def remove_alias(self, ref: Ref, alias: str) -> None:
        """Remove an alias; the version it named stays."""
        model_id, _ = self._resolve(ref)
        self.client.request("DELETE", f"/models/{model_id}/aliases/{urllib.parse.quote(alias, safe='')}")

    def delete_draft_file(self, ref: Ref, remote_path: str) -> None:
        """Remove one file from the draft (published versions keep theirs)."""
        model_id, _ = self._resolve(ref)
        self.client.request("DELETE", f"/models/{model_id}/draft/files/{quote_path(remote_path)}")

    def register(
        self,
        folder: str,
        name: str,
        framework: Optional[str] = None,
        format: Optional[str] = None,  # noqa: A002 - the API's field name
        metrics: Optional[Mapping[str, Any]] = None,
        input_schema: Optional[Mapping[str, Any]] = None,
        output_schema: Optional[Mapping[str, Any]] = None,
        description: Optional[str] = None,
        alias: Optional[str] = None,
        progress: bool = True,
    ) -> Dict[str, Any]:
        """Publish ``folder`` as the next version of model ``name`` and return that version.

        Creates the model when the key sees none of that name, otherwise
        updates the metadata given (arguments left ``None`` stay as they are).
        The draft is made to hold exactly the folder's files: files whose
        sha256 the draft already has are not sent again, and draft files the
        folder lacks are removed. Then the draft is published and, with
        ``alias``, the alias is pointed at the new version.
        """
        found = list(walk_files(folder))  # fails early on a missing folder, before anything changes
        metadata = {"framework": framework, "format": format, "metrics": metrics, "input_schema": input_schema,
                    "output_schema": output_schema, "description": description}
        given = {k: v for k, v in metadata.items() if v is not None}
        try:
            # @draft: every model has a draft, so a model with no published version is found too.
            model = self.resolve(format_ref(name, "draft"))["model"]
        except NotFoundError:
            model = None
        if model is None:
            model = self.create(name, description=description or "", framework=framework, format=format, metrics=metrics,
                                input_schema=input_schema, output_schema=output_schema)
        elif given:
            model = self.update(model["id"], **given)
        model_id = model["id"]

        in_draft = {e["path"]: e for e in self.files(model_id, "draft")}
        wanted = {relative: path for path, relative in found}
        send = [(path, relative) for path, relative in found
                if in_draft.get(relative, {}).get("sha256") != sha256_of_file(path)]
        sizes = [os.path.getsize(path) for path, _ in send]
        line = ProgressLine("uploaded", len(send), sum(sizes)) if progress else None
        base = 0
        try:
            for (path, relative), size in zip(send, sizes):
                self.upload_file(model_id, path, relative, progress=line.file_progress(base) if line else None)
                if line:
                    line.file_done(relative, size, base)
                base += size
        finally:
            if line:
                line.close()
        for stale in sorted(set(in_draft) - set(wanted)):
            self.delete_draft_file(model_id, stale)

        version = self.publish(model_id)
        version["aliases"] = []
        if alias:
            self.set_alias(model_id, alias, version["version"])
            version["aliases"] = [alias]
        version["model"] = format_ref(name, version["version"])
        return version

    def download(self, ref: Ref, folder: str, version: Union[str, int, None] = None,  # type: ignore[override]
                 progress: bool = True) -> Dict[str, Any]:
        """Download a version (``name``, ``name@3``, ``name@production``, ``name@latest``) into ``folder``."""
        return super().download(ref, folder, version, progress)

    def _id_for_name(self, name: str) -> str:
        # The platform resolves names itself, preferring the key's own accounts over shared and public models.
        # @draft: every model has one, so a model not yet published is found as well.
        return str(self.resolve(format_ref(name, "draft"))["model"]["id"])


__all__ = ["Models", "parse_ref", "format_ref"]
