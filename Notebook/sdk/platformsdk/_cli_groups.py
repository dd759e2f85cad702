"""One subcommand group of ``plat`` (``datasets``, ``models``): the group parser and a maker for its subcommands."""

from __future__ import annotations

import argparse
from typing import Any, Callable

Command = Callable[[str, str, Callable[..., Any]], argparse.ArgumentParser]


def command_group(commands: Any, connection: Callable[[], argparse.ArgumentParser], name: str, help_text: str,
                  description: str) -> Command:
    """Add ``plat NAME`` and return ``command(name, help, handler)``, which adds one of its subcommands."""
    group = commands.add_parser(name, help=help_text, description=description, parents=[connection()])
    sub = group.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")
    # No handler without a subcommand: main() prints this help before needing any configuration.
    group.set_defaults(handler=None, help_parser=group)

    def command(command_name: str, command_help: str, handler: Callable[..., Any]) -> argparse.ArgumentParser:
        parser = sub.add_parser(command_name, help=command_help,
                                description=command_help[0].upper() + command_help[1:] + ".", parents=[connection()])
        parser.set_defaults(handler=handler)
        return parser

    return command
