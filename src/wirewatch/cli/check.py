"""`wirewatch check`: the config validated, and what each watch's region names mean."""

from __future__ import annotations

import argparse

from wirewatch.cli.common import AddCommand, load_or_report
from wirewatch.config.loader import config_path_from
from wirewatch.config.schema import Config


def register(command: AddCommand) -> None:
    command("check", cmd_check, "Validate the config; every problem as FILE:LINE: field: message.")


def cmd_check(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return 1
    print(
        f"{config_path_from(args.config)}: ok ({len(config.outlets)} outlets, "
        f"{len(config.watches)} watches, {len(config.notifiers)} notifiers)"
    )
    for line in region_lines(config):
        print(line)
    return 0


def region_lines(config: Config) -> list[str]:
    """What each watch's region names mean, so that a surprise shows before the first alert:
    '  balochistan-attacks: Baluchistan = Balochistan, province or state in Pakistan'."""
    from wirewatch.rules.places import Gazetteer

    gazetteer = Gazetteer.load()
    lines = []
    for watch in config.watches:
        for name in watch.regions:
            region = gazetteer.resolve_region(name)
            if region is None:
                continue
            meaning = gazetteer.describe(region)
            line = f"  {watch.name}: {name} = " + (
                meaning if region.name == name else f"{region.name}, {meaning}"
            )
            if others := gazetteer.elsewhere(name, region):
                line += f" (also in {', '.join(others[:3])}: write '{name}, {others[0]}')"
            lines.append(line)
    return lines
