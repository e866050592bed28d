"""`wirewatch demo`: the real service against built-in local outlets."""

from __future__ import annotations

import argparse
import asyncio
import sys

from wirewatch.cli.common import AddCommand


def register(command: AddCommand) -> None:
    demo = command(
        "demo", cmd_demo, "Run the whole service on built-in local demo outlets.", config=False
    )
    demo.add_argument("--forever", action="store_true", help="keep polling after the first cycle")


def cmd_demo(args: argparse.Namespace) -> int:
    from wirewatch.demo.runner import run_demo

    return asyncio.run(run_demo(forever=args.forever, out=sys.stdout))
