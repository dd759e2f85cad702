"""``plat deployments ...``: the deployment subcommands of the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, TextIO

from ._cli_groups import command_group
from .client import Client

EXIT_REFUSED = 1


def add_parser(commands: Any, connection: Callable[[], argparse.ArgumentParser]) -> None:
    """Add ``deployments`` and its subcommands to the ``plat`` subparsers."""
    command = command_group(commands, connection, "deployments", "create, list, start, stop and delete deployments",
                            "Work with deployments: notebooks, editors and module APIs run for you.")

    p = command("list", "list your deployments and those shared with you", _list)
    p.add_argument("--scope", choices=("mine", "shared", "account"),
                   help="only yours, only those shared with you, or every one of the accounts you are master of")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")

    p = command("show", "show one deployment", _show)
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print the raw JSON answer")

    p = command("create", "deploy a catalog module; it starts at once", _create)
    p.add_argument("module", metavar="MODULE")
    p.add_argument("title", metavar="TITLE")
    p.add_argument("--service", choices=("jupyter", "vscode", "api"), help="default: the module's first")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the IDE password from the first line of stdin (command lines are visible to others)")
    p.add_argument("--cpus", type=float)
    p.add_argument("--gpus", type=int)
    p.add_argument("--memory-mib", type=int)
    p.add_argument("--disk-gib", type=int)
    p.add_argument("--template", choices=("default", "minimal"))
    p.add_argument("--image-tag")
    p.add_argument("--dataset", action="append", default=[], metavar="NAME@VERSION", help="mount a dataset (repeatable)")
    p.add_argument("--description", default="")
    p.add_argument("--account", metavar="ACCOUNT_ID", help="default: your current account")
    _wait_options(p)

    for name, help_text, handler in (("start", "start a stopped deployment, or run a failed one again", _start),
                                     ("stop", "stop a deployment; its workspace is kept", _stop)):
        p = command(name, help_text, handler)
        p.add_argument("id", metavar="ID")
        _wait_options(p)

    p = command("delete", "stop a deployment and remove its workspace", _delete)
    p.add_argument("id", metavar="ID")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = command("events", "show what was asked and what happened, oldest first", _events)
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")


def _wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="return once the deployment got where it was sent")
    p.add_argument("--wait-timeout", type=float, default=300.0, metavar="SECONDS", help="how long --wait waits (default 300)")


def format_deployment(d: Dict[str, Any]) -> str:
    """One line: id, state (and what is wanted when it differs), title, module/service, access."""
    state = d["observed"] if d["desired"] == d["observed"] else f"{d['observed']} (wanted {d['desired']})"
    access = "" if d.get("access", "owner") == "owner" else f"\t[{d['access']}]"
    return f"{d['id']}\t{state}\t{d['title']}\t{d['module']}/{d['service']}{access}"


def _list(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for d in client.deployments.list(scope=args.scope):
        print(json.dumps(d, sort_keys=True) if args.json else format_deployment(d), file=out)


def _show(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    d = client.deployments.get(args.id)
    if args.json:
        print(json.dumps(d, indent=2, sort_keys=True), file=out)
        return
    lines = [
        f"{d['title']} ({d['id']})",
        f"  state:    {d['observed']}, wanted {d['desired']}" + (f": {d['reason']}" if d.get("reason") else ""),
        f"  module:   {d['module']} ({d['service']}{', ' + d['imageTag'] if d.get('imageTag') else ''})",
        f"  hardware: {d['cpus']:g} CPU, {d['gpus']} GPU, {d['memoryMiB']} MiB memory, {d['diskGiB']} GiB disk",
        f"  url:      {client.api_url}{d['url']}",
        f"  access:   {d.get('access', 'owner')}",
    ]
    if d.get("datasets"):
        lines.append(f"  datasets: {', '.join(d['datasets'])}")
    print("\n".join(lines), file=out)


def _create(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    d = client.deployments.create(
        args.module, args.title, password, service=args.service, description=args.description, cpus=args.cpus,
        gpus=args.gpus, memory_mib=args.memory_mib, disk_gib=args.disk_gib, template=args.template,
        image_tag=args.image_tag, datasets=args.dataset, account_id=args.account)
    print(f"created {format_deployment(d)}", file=out)
    return _maybe_wait(client, args, d, "running", out)


def _start(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    d = client.deployments.start(args.id)
    print(f"starting {format_deployment(d)}", file=out)
    return _maybe_wait(client, args, d, "running", out)


def _stop(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    d = client.deployments.stop(args.id)
    print(f"stopping {format_deployment(d)}", file=out)
    return _maybe_wait(client, args, d, "stopped", out)


def _maybe_wait(client: Client, args: argparse.Namespace, d: Dict[str, Any], state: str, out: TextIO) -> int:
    if not args.wait:
        return 0
    try:
        d = client.deployments.wait(d["id"], state, timeout=args.wait_timeout)
    except (TimeoutError, RuntimeError) as exc:
        print(f"error: {exc}", file=args.err)
        return EXIT_REFUSED
    print(f"{state} {format_deployment(d)}", file=out)
    return 0


def _delete(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    if not args.yes:
        # Deleting removes every file in the workspace: a script must say --yes rather than hang on a prompt.
        stdin = sys.stdin
        if stdin is None or not stdin.isatty():
            print("error: refusing to delete without confirmation; pass --yes", file=args.err)
            return EXIT_REFUSED
        title = client.deployments.get(args.id)["title"]
        args.err.write(f"Delete {title!r} and its workspace? Type the title to confirm: ")
        args.err.flush()
        if stdin.readline().strip() != title:
            print("not deleted", file=args.err)
            return EXIT_REFUSED
    client.deployments.delete(args.id)
    print(f"deleting {args.id}: the deployment and its workspace are being removed", file=out)
    return 0


def _events(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    for e in client.deployments.events(args.id):
        print(json.dumps(e, sort_keys=True) if args.json else f"{e['at']}\t{e['state']}\t{e['message']}", file=out)
