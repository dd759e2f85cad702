"""``plat datasets ...``: the dataset subcommands of the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable, TextIO

from . import _cli_browse
from ._cli_groups import command_group
from ._transfer import format_bytes
from .client import Client
from .datasets import parse_ref

EXIT_REFUSED = 2


def add_parser(commands: Any, connection: Callable[[], argparse.ArgumentParser]) -> None:
    """Add ``datasets`` and its subcommands to the ``plat`` subparsers."""
    command = command_group(commands, connection, "datasets", "create, upload, publish and download datasets",
                            "Work with datasets: versioned collections of files.")

    p = command("list", "list the datasets visible to the key", _list)
    p.add_argument("--search", help="only names containing this text")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")

    p = command("create", "create an empty dataset", _create)
    p.add_argument("name")
    p.add_argument("--description", default="")
    p.add_argument("--license")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeat for several)")
    p.add_argument("--account", help="account id (default: the key's current account)")

    p = command("upload", "upload a file or a folder into the draft", _upload)
    p.add_argument("ref", metavar="NAME[@draft]")
    p.add_argument("source", metavar="FOLDER_OR_FILE")
    p.add_argument("--prefix", default="", help="folder inside the dataset to upload under")
    p.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")

    p = command("files", "list the files of a version (default latest)", _files)
    p.add_argument("ref", metavar="NAME[@version]")
    p.add_argument("--prefix")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")

    p = command("download", "download a version (default latest) into a folder", _download)
    p.add_argument("ref", metavar="NAME[@version]")
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")

    _cli_browse.add_commands(command)

    p = command("publish", "publish the draft as the next version", _publish)
    p.add_argument("ref", metavar="NAME")

    p = command("share", "share a dataset read-only (or --write) with a user or an account", _share)
    p.add_argument("ref", metavar="NAME")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="EMAIL", help="the user's e-mail")
    who.add_argument("--account", metavar="ACCOUNT_ID", help="every member of this account")
    p.add_argument("--write", action="store_true", help="let them upload and publish too (never delete or share)")

    p = command("shares", "list who a dataset is shared with", _shares)
    p.add_argument("ref", metavar="NAME")

    p = command("unshare", "revoke a share (by e-mail, account id or share id); it stops working at once", _unshare)
    p.add_argument("ref", metavar="NAME")
    p.add_argument("grantee", metavar="EMAIL_OR_ID")

    p = command("public", "put a dataset in the public catalog, or take it out with --off", _public)
    p.add_argument("ref", metavar="NAME")
    p.add_argument("--off", action="store_true", help="take it out of the catalog")

    p = command("delete", "delete a dataset, or one version with NAME@N", _delete)
    p.add_argument("ref", metavar="NAME[@N]")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _list(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for dataset in client.datasets.list(search=args.search):
        if args.json:
            print(json.dumps(dataset, sort_keys=True), file=out)
            continue
        latest = dataset.get("latestVersion")
        draft = dataset.get("draft") or {}
        print(f"{dataset['name']}\t{'v' + str(latest) if latest is not None else 'unpublished'}\t"
              f"draft {draft.get('fileCount', 0)} files {format_bytes(draft.get('totalBytes') or 0)}\t{dataset['id']}",
              file=out)


def _create(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    dataset = client.datasets.create(args.name, description=args.description, license=args.license,
                                     tags=args.tag, account_id=args.account)
    print(f"created {dataset['name']} ({dataset['id']})", file=out)


def _upload(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    datasets = client.datasets
    if os.path.isdir(args.source):
        summary = datasets.upload_folder(args.ref, args.source, prefix=args.prefix, progress=not args.no_progress)
        print(f"uploaded {summary['files']} files, {format_bytes(summary['bytes'])} to the draft of {args.ref}", file=out)
    else:
        prefix = args.prefix.strip("/")
        name = os.path.basename(args.source)
        entry = datasets.upload_file(args.ref, args.source, f"{prefix}/{name}" if prefix else name)
        print(f"uploaded {entry['path']} ({format_bytes(entry['size'])}, sha256 {entry['sha256']})", file=out)


def _files(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for entry in client.datasets.files(args.ref, prefix=args.prefix):
        if args.json:
            print(json.dumps(entry, sort_keys=True), file=out)
        else:
            print(f"{entry['size']:>12}  {entry['sha256']}  {entry['path']}", file=out)


def _download(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    summary = client.datasets.download(args.ref, args.dest, progress=not args.no_progress)
    print(f"downloaded {summary['files']} files, {format_bytes(summary['bytes'])} to {args.dest}", file=out)


def _publish(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    version = client.datasets.publish(args.ref)
    name, _ = parse_ref(args.ref)
    print(f"published {name}@{version['version']} ({version['fileCount']} files, "
          f"{format_bytes(version['totalBytes'])}, manifest sha256 {version['manifestSha256']})", file=out)


def _share(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    entry = client.datasets.share(args.ref, user=args.user, account=args.account, access="write" if args.write else "read")
    print(f"shared {args.ref} with {entry['granteeType']} {entry['granteeName']} ({entry['access']}), share {entry['id']}", file=out)


def _shares(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    entries = client.datasets.shares(args.ref)
    if not entries:
        print(f"{args.ref} is not shared", file=out)
    for entry in entries:
        print(f"{entry['granteeType']}\t{entry['granteeName']}\t{entry['access']}\t{entry['id']}", file=out)


def _unshare(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    entry = client.datasets.unshare(args.ref, args.grantee)
    print(f"revoked {entry['access']} access of {entry['granteeType']} {entry['granteeName']} to {args.ref}", file=out)


def _public(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    client.datasets.set_public(args.ref, public=not args.off)
    print(f"{args.ref} is {'no longer' if args.off else 'now'} in the public catalog", file=out)


def _delete(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    name, version = parse_ref(args.ref)
    what = f"version {version} of dataset {name}" if version else f"dataset {name} with all its versions and files"
    if not args.yes:
        # Deleting is permanent; a script must say --yes rather than hang on or skip a prompt.
        stdin = sys.stdin
        if stdin is None or not stdin.isatty():
            print(f"error: refusing to delete {what} without confirmation; pass --yes", file=args.err)
            return EXIT_REFUSED
        args.err.write(f"Delete {what}? Type the name to confirm: ")
        args.err.flush()
        if stdin.readline().strip() != name:
            print("not deleted", file=args.err)
            return EXIT_REFUSED
    if version:
        client.datasets.delete_version(name, version)
    else:
        client.datasets.delete(name)
    print(f"deleted {what}", file=out)
    return 0
