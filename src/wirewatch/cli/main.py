"""`wirewatch`: the parser built from every command group's `register`, and `main`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from wirewatch import defaults
from wirewatch.cli import (
    backtest,
    check,
    demo,
    digest,
    explain,
    feedback,
    outbox,
    outlets,
    passwd,
    run,
    silence,
    stories,
)
from wirewatch.cli.common import Handler, add_config_argument
from wirewatch.service.logs import setup_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch",
        description="Alerts on new articles about coordinated attacks and internet shutdowns "
        "in the regions you watch, once per story.",
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="default: info (warning for `demo`, which prints its own account of events)",
    )
    parser.add_argument(
        "--log-format",
        default=os.environ.get("WIREWATCH_LOG_FORMAT", defaults.LOG_FORMAT),
        choices=["text", "json"],
        help="text lines, or one JSON object per line (default: $WIREWATCH_LOG_FORMAT or text)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Handler, help_text: str, *, config: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if config:
            add_config_argument(sub)
        sub.set_defaults(handler=handler)
        return sub

    for group in (
        demo, run, check, backtest, explain, stories, silence, digest, outlets, outbox, feedback,
    ):  # fmt: skip
        group.register(command)
    passwd.register(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or ("warning" if args.command == "demo" else "info")
    setup_logging(level, args.log_format)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
