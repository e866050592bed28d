"""A region name as a user writes it -> the ``Region`` it means; 'did you mean', descriptions.

Case- and accent-insensitive. A group wins over a town or division of the same name ("Sahel"),
then a country, an admin1, the most populous district or town. "Punjab, India" is the one in
that country; an administrative ending ("Amhara Region") is for divisions only.
"""

from __future__ import annotations

import difflib

from wirewatch.rules.places.index import Entry, PlaceIndex
from wirewatch.rules.places.names import ADMIN1_ENDINGS, ADMIN2_ENDINGS, fold, short_name
from wirewatch.rules.places.regions import KIND_RANK, Region

_KIND_WORDS = {"admin1": "province or state", "admin2": "district", "place": "town"}


def resolve_region(index: PlaceIndex, name: str) -> Region | None:
    """A region name from a config: a group, a country name or code, an admin1 or admin2
    name, or a town. "Punjab, India" is the one in that country; "Amhara Region" and
    "Helmand Province" are the divisions the data calls Amhara and Helmand."""
    key = fold(name)
    if len(key) == 2 and key.isalpha() and key not in index.aliases:
        code = key.upper()  # "KP" is Khyber Pakhtunkhwa (an alias), not North Korea's code
        known = code in index.countries
        return Region(index.countries[code], "country", code) if known else None
    if key in index.groups:  # "Sahel": the region, not Burkina Faso's province
        return index.groups[key]
    entries = _candidates(index, name)
    place, _, country = name.rpartition(",")
    if not entries and place.strip() and country.strip():  # "Korea, Republic of" is whole
        within = resolve_region(index, country)
        if within is None or within.kind != "country":
            return None
        entries = [e for e in _candidates(index, place) if e.country == within.country]
    if not entries:
        return None
    return index.region_of(max(entries, key=lambda e: (KIND_RANK[e.kind], e.population)))


def _candidates(index: PlaceIndex, name: str) -> list[Entry]:
    """What a region name may mean; with an administrative ending, the divisions only."""
    if entries := index.entries(name):
        return entries
    for endings, kind in ((ADMIN1_ENDINGS, "admin1"), (ADMIN2_ENDINGS, "admin2")):
        short = short_name(name, endings, frozenset())
        if short and (found := [e for e in index.entries(short) if e.kind == kind]):
            return found
    return []


def elsewhere(index: PlaceIndex, name: str, region: Region) -> list[str]:
    """Other countries with a division of this name: Punjab is also a state of India."""
    if region.kind not in ("admin1", "admin2"):
        return []
    others = {
        e.country
        for e in index.entries(name)
        if e.kind in ("admin1", "admin2") and e.country != region.country
    }
    return sorted(index.countries.get(code, code) for code in others)


def unknown_region(index: PlaceIndex, name: str) -> str:
    """The message for a region name that ``resolve_region`` does not know."""
    hint = ", ".join(suggest(index, name)[:3])
    return f"unknown region {name!r}" + (f" (did you mean {hint}?)" if hint else "")


def suggest(index: PlaceIndex, name: str, n: int = 5) -> list[str]:
    """Known names close to ``name`` (for 'did you mean …?')."""
    groups = {key: group.name for key, group in index.groups.items()}
    known = [*groups, *index.display]
    close = difflib.get_close_matches(fold(name), known, n=n * 3, cutoff=0.75)
    ranked = sorted(
        close,
        key=lambda k: (
            -difflib.SequenceMatcher(None, fold(name), k).ratio(),
            -max(KIND_RANK[e.kind] for e in index.by_name[k]) if k not in groups else -5,
        ),
    )
    return list(dict.fromkeys(groups.get(k) or index.display[k] for k in ranked))[:n]


def describe(index: PlaceIndex, region: Region) -> str:
    """What a region name resolved to, for `wirewatch check`: 'town in Balochistan,
    Pakistan'; 'group of 5: Burkina Faso, Chad, Mali, Mauritania, Niger'."""
    if region.kind == "group":
        parts = sorted(part.name for part in region.parts)
        shown = ", ".join(parts[:8]) + (f" and {len(parts) - 8} more" if len(parts) > 8 else "")
        return f"group of {len(parts)}: {shown}"
    country = index.countries.get(region.country, region.country)
    if region.kind == "country":
        return "country"
    within = f"{region.admin1}, {country}" if region.admin1 != region.name else country
    return f"{_KIND_WORDS[region.kind]} in {within}"
