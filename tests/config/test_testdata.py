"""One file per bad config in testdata/: each shows one mistake, and its `# expect:` lines at
the top are exactly the problems `check_config` reports for it, in order.

    # expect: 5: watches[0].notify[0]: unknown notifier 'sco' (did you mean 'soc'?)

reads `FILE:5: watches[0].notify[0]: ...` (line numbers count the comment lines too). A
message ending in `...` is a prefix, for the words of a library (apscheduler's cron errors).
Regions are checked with the stand-in below (RegionTable); every `${NAME}` in a file is unset
while it loads.
"""

from __future__ import annotations

import difflib
import re
from itertools import zip_longest
from pathlib import Path

import pytest

from wirewatch.config import check_config

TESTDATA = Path(__file__).parent / "testdata"
CASES = sorted(TESTDATA.glob("*.yaml"))
EXPECT = re.compile(r"# expect: (.+)")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")

# name -> kind, as the gazetteer would resolve it
KNOWN_REGIONS = {"Balochistan": "division", "Punjab": "division", "Sahel": "group"}


class RegionTable:
    """A region check (see `wirewatch.config.checks.RegionCheck`) over KNOWN_REGIONS, worded
    like the real one: an unknown name gets a suggestion; for a watch's own places
    (`for_place`) a group is refused too. The name `raise!` makes it raise, as a broken
    checker would."""

    def __call__(self, name: str) -> str | None:
        if name == "raise!":
            raise RuntimeError("the gazetteer is not loaded")
        if name in KNOWN_REGIONS:
            return None
        close = difflib.get_close_matches(name, KNOWN_REGIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown region {name!r}{hint}"

    def for_place(self, name: str) -> str | None:
        problem = self(name)
        if problem is None and KNOWN_REGIONS[name] == "group":
            return (
                f"{name} is a group of regions: name the country or division the place is in "
                "({name: …, region: …})"
            )
        return problem


REGIONS = RegionTable()


def expectations(text: str) -> list[str]:
    return [m.group(1) for line in text.splitlines() if (m := EXPECT.fullmatch(line))]


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
def test_a_bad_config_reports_exactly_its_problems(path: Path, monkeypatch):
    text = path.read_bytes().decode("utf-8", errors="replace")  # not-utf8.yaml is not
    for name in ENV_REF.findall(text):
        monkeypatch.delenv(name, raising=False)
    expected = expectations(text)
    assert expected, f"{path.name} has no '# expect:' line"

    found = [str(p).removeprefix(f"{path}:") for p in check_config(path, REGIONS)]
    shown = [
        want if want.endswith("...") and got.startswith(want[:-3]) else got
        for got, want in zip_longest(found, expected, fillvalue="")
    ]
    assert shown == expected


def test_there_are_bad_configs_to_check():
    assert len(CASES) >= 70
    assert all(re.fullmatch(r"[a-z0-9-]+\.yaml", path.name) for path in CASES)
