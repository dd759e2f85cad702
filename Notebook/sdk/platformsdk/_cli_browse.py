"""``plat datasets diff`` and ``plat datasets archive``: comparing versions and taking a version as one zip."""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable, TextIO

from ._transfer import format_bytes
from .client import Client
from .datasets import parse_ref


def add_commands(command: Callable[[str, str, Callable[..., Any]], argparse.ArgumentParser]) -> None:
    """Add the browsing subcommands through ``add_parser``'s ``command`` helper."""
    p = command("diff", "list the files added, removed and changed from version A to version B", _diff)
    p.add_argument("ref", metavar="NAME")
    p.add_argument("a", metavar="A", help="a version number, 'latest' or 'draft'")
    p.add_argument("b", metavar="B", help="a version number, 'latest' or 'draft'")
    p.add_argument("--json", action="store_true", help="print the whole diff as one JSON object")

    p = command("archive", "download a version (default latest) as one zip file", _archive)
    p.add_argument("ref", metavar="NAME[@version]")
    p.add_argument("-o", "--output", help="the zip file to write (default NAME-VERSION.zip)")
    p.add_argument("--prefix", help="only the files under this folder")
    p.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")


def _diff(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    name, _ = parse_ref(args.ref)
    diff = client.datasets.diff(name, args.a, args.b)
    if args.json:
        print(json.dumps(diff, sort_keys=True), file=out)
        return
    lines = [(f["path"], f"+ {f['path']}  ({format_bytes(f['size'])})") for f in diff["added"]]
    lines += [(f["path"], f"- {f['path']}  ({format_bytes(f['size'])})") for f in diff["removed"]]
    lines += [(f["path"], f"~ {f['path']}  ({format_bytes(f['sizeBefore'])} -> {format_bytes(f['sizeAfter'])})")
              for f in diff["changed"]]
    for _, line in sorted(lines):
        print(line, file=out)
    counts = diff["counts"]
    print(f"{counts.get('added', 0)} added, {counts.get('removed', 0)} removed, {counts.get('changed', 0)} changed, "
          f"{counts.get('unchanged', 0)} unchanged", file=out)


def _archive(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    name, version = parse_ref(args.ref)
    output = args.output or f"{name}-{version or 'latest'}.zip"
    saved = client.datasets.archive(name, output, version=version, prefix=args.prefix, progress=not args.no_progress)
    print(f"saved {saved['path']} ({format_bytes(saved['bytes'])})", file=out)
