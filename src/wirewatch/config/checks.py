"""The checks across sections, run on the file's data after the schema: names unique per
section, every `notify` naming a defined notifier, and region names (a watch's `regions`
and its `places`' regions) known to a callback such as the gazetteer's."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from wirewatch.config.types import is_loopback, split_listen

__all__ = ["Checks", "Path_", "RegionCheck", "unknown_notifier"]

# A region name's problem (an unknown region, with suggestions), or None when it is known.
RegionCheck = Callable[[str], "str | None"]
# Where a value is in the data: ("watches", 0, "notify", 1) is watches[0].notify[1].
Path_ = tuple[str | int, ...]


@dataclass
class Checks:
    """Reports each problem with `add(path, message)`; `line_of(path)` is the line of a path."""

    add: Callable[[Path_, str], None]
    line_of: Callable[[Path_], int]
    region_check: RegionCheck | None = None

    def run(self, data: dict[str, Any]) -> None:
        for section, what in (
            ("outlets", "outlet"),
            ("watches", "watch"),
            ("notifiers", "notifier"),
        ):
            self.check_unique(data, section, what)
        notifiers = [name for _, name in named_items(data, "notifiers")]
        for i, watch in enumerate_dicts(data.get("watches")):
            for j, target in enumerate_strings(watch.get("notify")):
                if target not in notifiers:
                    self.add(("watches", i, "notify", j), unknown_notifier(target, notifiers))
            if self.region_check is not None:
                for j, region in enumerate_strings(watch.get("regions")):
                    self.check_region(("watches", i, "regions", j), region)
                self.check_place_regions(i, watch)
        self.check_dashboard_access(data.get("server"))

    def check_dashboard_access(self, server: Any) -> None:
        """A dashboard reachable from other machines must have users to log in."""
        if not isinstance(server, dict) or server.get("dashboard") is False or server.get("users"):
            return
        listen = server.get("listen")
        try:
            host, _ = split_listen(listen if isinstance(listen, str) else "127.0.0.1:0")
        except ValueError:
            return  # the schema reports the address itself
        if not is_loopback(host):
            self.add(
                ("server", "listen"),
                f"the dashboard on {host}, not a loopback address, needs `users` to log in "
                "(or `dashboard: false` to serve only /healthz and /metrics)",
            )

    def check_unique(self, data: dict[str, Any], section: str, what: str) -> None:
        first: dict[str, int] = {}
        for i, name in named_items(data, section):
            if name in first:
                line = self.line_of((section, first[name], "name"))
                self.add(
                    (section, i, "name"), f"duplicate {what} name {name!r} (first on line {line})"
                )
            else:
                first[name] = i

    def check_region(self, path: Path_, region: str, check: RegionCheck | None = None) -> None:
        check = check or self.region_check
        assert check is not None
        try:
            message = check(region)
        except Exception as exc:
            message = f"cannot check region {region!r}: {exc}"
        if message:
            self.add(path, message)

    def check_place_regions(self, i: int, watch: dict[str, Any]) -> None:
        """The region of each of a watch's own `places`: written with it, or the watch's only
        region. A checker may be stricter there (`for_place`: no group of regions)."""
        check = getattr(self.region_check, "for_place", self.region_check)
        regions = [r for _, r in enumerate_strings(watch.get("regions"))]
        places = watch.get("places")
        for j, place in enumerate(places if isinstance(places, list) else []):
            if isinstance(place, dict) and isinstance(place.get("region"), str):
                self.check_region(("watches", i, "places", j, "region"), place["region"], check)
            elif isinstance(place, str) and len(regions) == 1 and check is not self.region_check:
                self.check_region(("watches", i, "places", j), regions[0], check)


def unknown_notifier(name: str, defined: list[str]) -> str:
    if not defined:
        return f"unknown notifier {name!r}: no notifiers are defined"
    close = difflib.get_close_matches(name, defined, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else f"defined: {', '.join(defined)}"
    return f"unknown notifier {name!r} ({hint})"


# ---- walking the data, whatever its shape ----------------------------------------------------
def named_items(data: dict[str, Any], section: str) -> Iterator[tuple[int, str]]:
    for i, item in enumerate_dicts(data.get(section)):
        if isinstance(item.get("name"), str):
            yield i, item["name"]


def enumerate_dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        yield from ((i, item) for i, item in enumerate(value) if isinstance(item, dict))


def enumerate_strings(value: Any) -> Iterator[tuple[int, str]]:
    if isinstance(value, list):
        yield from ((i, item) for i, item in enumerate(value) if isinstance(item, str))
