"""What every command shares: the checked config or its problems, a store opened from it,
durations as arguments, times as the terminal shows them, and the subcommand helper."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from wirewatch.config.loader import config_path_from
from wirewatch.config.schema import Config

if TYPE_CHECKING:
    from wirewatch.store import Store

Handler = Callable[[argparse.Namespace], int]
AddCommand = Callable[..., argparse.ArgumentParser]  # (name, handler, help, *, config=True)


def load_or_report(args: argparse.Namespace, *, check_regions: bool = True) -> Config | None:
    """The validated config, or None after printing every problem to stderr."""
    from wirewatch.service.wiring import load_checked

    try:
        path = config_path_from(args.config)
    except ValueError as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return None
    config, problems = load_checked(path, check_regions=check_regions)
    for problem in problems:
        print(problem, file=sys.stderr)
    return config


def with_store(
    args: argparse.Namespace, action: Callable[[Store], int], *, config: Config | None = None
) -> int:
    """Run `action(store)` on the config's database; 1 when the config is invalid."""
    from wirewatch.service.wiring import open_store

    config = config or load_or_report(args, check_regions=False)
    if config is None:
        return 1
    store = open_store(config)
    try:
        return action(store)
    finally:
        store.close()


def duration_arg(text: str) -> float:
    """`6h`, `30m`, `2d` or seconds, as in the config file."""
    from wirewatch.config.types import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def stamp(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}Z" if value else "-"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", metavar="FILE", help="config file (default: $WIREWATCH_CONFIG)"
    )
