"""`wirewatch outlets`: each outlet's health: polls, 304 share, failures, entries, pages."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from wirewatch.cli.common import AddCommand, load_or_report, shown


def register(command: AddCommand) -> None:
    command(
        "outlets",
        cmd_outlets,
        "Show each outlet's health: polls, 304 ratio, failures, entries per day, pages.",
    )


def cmd_outlets(args: argparse.Namespace) -> int:
    from wirewatch.service.wiring import open_store

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    store = open_store(config)
    try:
        states = {state.outlet: state for state in store.crawl.all_fetch_states()}
    finally:
        store.close()
    now = datetime.now(UTC)

    def when(moment: datetime | None) -> str:
        return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "never"

    def figure(value: float | None, scale: float = 1.0, digits: int = 0) -> str:
        return "-" if value is None else f"{value * scale:.{digits}f}"

    print(
        f"{'outlet':24} {'polls':>6} {'304%':>5} {'fails':>5} {'entries/day':>11} "
        f"{'page fails':>10} {'waiting':>7}  {'last success':19}  last error or limit"
    )
    for outlet in config.outlets:
        state = states.get(outlet.name)
        if state is None:
            print(f"{shown(outlet.name):24} {'never polled':>18}")
            continue
        error = ""
        if state.last_error:
            error = f"{when(state.last_error_at)}  {shown(state.last_error)}"
        elif state.last_limit:  # a poll had more than one poll may take: the rest waits
            error = f"{when(state.last_limit_at)}  limited: {shown(state.last_limit)}"
        print(
            f"{shown(outlet.name):24} {state.polls:6} {figure(state.not_modified_ratio, 100):>5} "
            f"{state.consecutive_failures:5} {figure(state.entries_per_day(now), 1, 1):>11} "
            f"{state.page_failures:10} {state.entries_waiting:7}  {when(state.last_success):19}"
            f"  {error}"
        )
    return 0
