"""The ``plat`` command line: ``plat [options] whoami [--json]``, ``plat datasets ...``, ``plat models ...``
and ``plat deployments ...``, ``plat jobs ...``.

Exit status: 0 on success, 1 when the platform answers with an error or cannot
be reached, 2 for usage and configuration problems (as argparse uses 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Optional, Sequence, TextIO

from . import _cli_datasets, _cli_deployments, _cli_jobs, _cli_models
from ._version import __version__
from .client import DEFAULT_TIMEOUT, Client
from .config import ENV_API_KEY, ENV_API_URL, ENV_CONFIG
from .errors import ConfigurationError, PlatformConnectionError, PlatformError

EXIT_OK = 0
EXIT_PLATFORM_ERROR = 1
EXIT_USAGE = 2

# Subcommands of "plat jobs" that take a program's argv after "--"; elsewhere "--" keeps argparse's meaning.
_PROGRAM_COMMANDS = ("submit", "preview")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for ``plat`` and its subcommands."""
    # The connection options are accepted before and after the subcommand;
    # SUPPRESS keeps the subcommand's copy from overwriting the global value.
    def connection_options(suppress: bool) -> argparse.ArgumentParser:
        default = argparse.SUPPRESS if suppress else None
        options = argparse.ArgumentParser(add_help=False)
        group = options.add_argument_group("connection")
        group.add_argument("--api-url", default=default, help=f"platform URL (default: ${ENV_API_URL} or the config file)")
        group.add_argument(
            "--api-key",
            default=default,
            help=f"access key (default: ${ENV_API_KEY} or the config file; prefer those, "
            "since command lines are visible to other users)",
        )
        group.add_argument("--config", default=default, metavar="PATH", help=f"config file (default: ${ENV_CONFIG} "
                           "or ~/.config/platform/config.json)")
        group.add_argument(
            "--timeout",
            type=float,
            default=argparse.SUPPRESS if suppress else DEFAULT_TIMEOUT,
            metavar="SECONDS",
            help=f"network timeout (default: {DEFAULT_TIMEOUT:g})",
        )
        return options

    parser = argparse.ArgumentParser(
        prog="plat",
        description="Command line for Platform, the self-hosted ML workbench.",
        parents=[connection_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"plat (platformsdk) {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    whoami = commands.add_parser(
        "whoami",
        help="show the user, accounts and access key in use",
        description="Show the user, accounts and access key the configured key acts as.",
        parents=[connection_options(suppress=True)],
    )
    whoami.add_argument("--json", action="store_true", help="print the raw JSON answer")
    whoami.set_defaults(handler=_whoami)
    _cli_datasets.add_parser(commands, lambda: connection_options(suppress=True))
    _cli_models.add_parser(commands, lambda: connection_options(suppress=True))
    _cli_deployments.add_parser(commands, lambda: connection_options(suppress=True))
    _cli_jobs.add_parser(commands, lambda: connection_options(suppress=True))
    return parser


def main(argv: Optional[Sequence[str]] = None, stdout: Optional[TextIO] = None, stderr: Optional[TextIO] = None) -> int:
    """Run ``plat`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    argv = list(argv) if argv is not None else sys.argv[1:]
    # Everything after the first "--" is a program's argv (plat jobs submit NAME [options] -- python3 train.py):
    # taken out before parsing, since argparse's subparsers do not pass "--" through.
    program: List[str] = []
    head = argv[:argv.index("--")] if "--" in argv else argv
    if "--" in argv and any(head[i] == "jobs" and head[i + 1] in _PROGRAM_COMMANDS for i in range(len(head) - 1)):
        program = argv[argv.index("--") + 1:]
        argv = head
    try:
        args = parser.parse_args(argv)
        args.program = program
    except SystemExit as exc:
        # argparse exits on --help, --version and bad usage; callers get a status instead.
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "handler", None) is None:
        (getattr(args, "help_parser", None) or parser).print_help(err)
        return EXIT_USAGE
    try:
        client = Client(api_url=args.api_url, api_key=args.api_key, timeout=args.timeout, config_path=args.config)
        args.err = err
        code = args.handler(client, args, out)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except (PlatformError, PlatformConnectionError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_PLATFORM_ERROR
    except (OSError, ValueError, LookupError) as exc:
        # Local problems: a missing file, a bad NAME@version, a full disk, no share matching the given grantee.
        print(f"error: {exc}", file=err)
        return EXIT_PLATFORM_ERROR
    except KeyboardInterrupt:
        return 130
    return code if isinstance(code, int) else EXIT_OK


def _whoami(client: Client, args: argparse.Namespace, out: TextIO) -> None:
    me = client.whoami()
    if args.json:
        print(json.dumps(me, indent=2, sort_keys=True), file=out)
    else:
        print("\n".join(format_whoami(me, client.api_url)), file=out)


def format_whoami(me: Dict[str, Any], api_url: str) -> List[str]:
    """Return the human summary of a ``/me`` answer, one line per item."""
    user = me.get("user") or {}
    name = user.get("displayName")
    email = user.get("email") or "(no email)"
    who = f"{email} ({name})" if name and name != email else email
    admin = "platform admin" if user.get("isPlatformAdmin") else "not a platform admin"
    lines = [f"Signed in to {api_url} as {who}, {admin}"]

    accounts = me.get("accounts") or []
    current = me.get("currentAccountId")
    if accounts:
        lines.append("Accounts:")
        for account in accounts:
            marker = "*" if current is not None and account.get("id") == current else " "
            lines.append(f"  {marker} {account.get('name')} ({account.get('role')})")
    else:
        lines.append("Accounts: none")

    key = me.get("accessKey")
    if me.get("deploymentId"):
        lines.append(f"Workload key of deployment {me['deploymentId']} (acts as its owner while it runs)")
    elif key:
        expiry = f"expires {key['expiresAt']}" if key.get("expiresAt") else "never expires"
        lines.append(f"Access key: {key.get('name')} (scope {key.get('scope')}, {expiry})")
    else:
        lines.append("Access key: none (signed in without an access key)")
    return lines


if __name__ == "__main__":
    sys.exit(main())
