"""What every command shares: the checked config or its problems, a store opened from it,
durations as arguments, times and stored text as the terminal shows them, and the
subcommand helper.

Whatever a command prints that an outlet, a receiver or the store supplied (titles, outlet
names, reasons, errors) goes through `shown` (one line) or `shown_text` (several): an
outlet's headline cannot retitle or clear the terminal, move its cursor or reverse the
text after it. Delivery errors go through `shown_error`, which also redacts them."""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from wirewatch.config.loader import config_path_from
from wirewatch.config.schema import Config
from wirewatch.util import terminal_safe

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
    if config is not None:
        from wirewatch.service.logs import register_secrets

        register_secrets(config)  # what `shown_error` (and the log filter) hides
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


# Line and paragraph separators: terminal_safe keeps them, a one-line field must not.
_LINE_BREAKS = re.compile(r"[\n\r\t\v\f\u0085\u2028\u2029]+")


def shown(value: Any) -> str:
    """Stored or remote text as one line of a terminal: no control characters (escape
    sequences among them), direction overrides or line breaks."""
    return terminal_safe(_LINE_BREAKS.sub(" ", "" if value is None else str(value)))


def shown_text(value: Any) -> str:
    """Stored or remote text of several lines, safe for a terminal (newlines and tabs kept)."""
    return terminal_safe("" if value is None else str(value))


def shown_error(value: Any) -> str:
    """A delivery error or a decision's reason as one safe line, redacted: known secrets
    as `***`, every URL as `scheme://host/…` (see `service.logs.redact_error`)."""
    from wirewatch.service.logs import redact_error

    return shown(redact_error("" if value is None else str(value)))


class SafeOut(io.TextIOBase):
    """A text stream that writes through `shown_text` to `stream`: for output built
    elsewhere from stored or remote text (a backtest report quotes the corpus's titles)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.stream.write(shown_text(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()
