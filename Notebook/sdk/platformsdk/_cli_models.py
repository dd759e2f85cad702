"""``plat models ...``: the model subcommands of the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable, Optional, TextIO

from ._cli_groups import command_group
from ._transfer import format_bytes
from .client import Client


def add_parser(commands: Any, connection: Callable[[], argparse.ArgumentParser]) -> None:
    """Add ``models`` and its subcommands to the ``plat`` subparsers."""
    command = command_group(commands, connection, "models", "register, list, alias and download models",
                            "Work with models: versioned model files with metadata and aliases.")

    p = command("list", "list the models visible to the key", _list)
    p.add_argument("--search", help="only names, descriptions or tags matching this text")
    p.add_argument("--framework", help="only models of this framework")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")

    p = command("register", "upload a folder as the next version of a model (created if missing)", _register)
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--framework", help="e.g. pytorch, sklearn")
    p.add_argument("--format", help="e.g. safetensors, onnx")
    p.add_argument("--description")
    p.add_argument("--metrics", metavar="JSON", help='a JSON object, or @file.json: \'{"accuracy": 0.93}\'')
    p.add_argument("--input-schema", metavar="JSON", help="a JSON object, or @file.json")
    p.add_argument("--output-schema", metavar="JSON", help="a JSON object, or @file.json")
    p.add_argument("--alias", help="point this alias (such as production) at the new version")
    p.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")

    p = command("versions", "list the published versions of a model with their aliases", _versions)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")

    p = command("alias", "point an alias at a version, or remove it with --remove", _alias)
    p.add_argument("name", metavar="NAME")
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("version", metavar="VERSION", nargs="?")
    p.add_argument("--remove", action="store_true", help="remove the alias (its version stays)")

    p = command("download", "download a version (NAME, NAME@3, NAME@production; default latest) into a folder", _download)
    p.add_argument("ref", metavar="NAME[@version|alias]")
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")


def _json_argument(option: str, value: Optional[str]) -> Any:
    """A JSON option's value: the text itself, or the contents of the file after ``@``."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as handle:
            text = handle.read()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{option} must be a JSON object")
    return parsed


def _list(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for model in client.models.list(search=args.search, framework=args.framework):
        if args.json:
            print(json.dumps(model, sort_keys=True), file=out)
            continue
        latest = model.get("latestVersion")
        aliases = ",".join(f"{a}=v{v}" for a, v in sorted((model.get("aliases") or {}).items())) or "-"
        print(f"{model['name']}\t{'v' + str(latest) if latest is not None else 'unpublished'}\t"
              f"{model.get('framework') or '-'}\t{aliases}\t{model['id']}", file=out)


def _register(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    version = client.models.register(
        args.folder, args.name, framework=args.framework, format=args.format, description=args.description,
        metrics=_json_argument("--metrics", args.metrics), input_schema=_json_argument("--input-schema", args.input_schema),
        output_schema=_json_argument("--output-schema", args.output_schema), alias=args.alias, progress=not args.no_progress)
    aliased = f", alias {args.alias}" if args.alias else ""
    print(f"registered {version['model']} ({version['fileCount']} files, {format_bytes(version['totalBytes'])}{aliased})",
          file=out)


def _versions(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for version in client.models.versions(args.name):
        if args.json:
            print(json.dumps(version, sort_keys=True), file=out)
            continue
        print(f"v{version['version']}\t{','.join(version.get('aliases') or []) or '-'}\t{version['fileCount']} files\t"
              f"{format_bytes(version['totalBytes'])}\t{version.get('publishedAt') or ''}", file=out)


def _alias(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    if args.remove:
        client.models.remove_alias(args.name, args.alias)
        print(f"removed alias {args.alias} from {args.name}", file=out)
        return 0
    if args.version is None:
        print("error: give the VERSION the alias should name, or --remove", file=args.err)
        return 2
    model = client.models.set_alias(args.name, args.alias, args.version.lstrip("v"))
    print(f"{args.name}@{args.alias} is now version {model['aliases'][args.alias]}", file=out)
    return 0


def _download(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    summary = client.models.download(args.ref, args.dest, progress=not args.no_progress)
    print(f"downloaded {summary['files']} files, {format_bytes(summary['bytes'])} of {args.ref} to {args.dest}", file=out)
