"""Offline gazetteer: countries, admin1 and admin2 divisions, towns and the places an article names.

``Gazetteer`` is the entry point; its parts:
- ``index.py``: the index of every name -> what it may refer to, built once at start;
- ``resolve.py``: a region name a user writes -> ``Region`` (``regions.py``); suggestions;
- ``finder.py``: the places an article names (``find_places``);
- ``names.py``: name folding, administrative endings, English words, aliases, demonyms;
- ``sources.py``: readers of the packaged place data; ``groups.py``: region groups, continents;
- names in the Arabic, Cyrillic, Devanagari and Bengali scripts: ``scripts.py`` (folding,
  Cyrillic stems, which language of the Arabic script), ``script_names.py`` (their index,
  built with the rest) and ``script_finder.py`` (finding them in an article).

Place finding is deliberately precise rather than greedy; see ``docs/matching.md``.
"""

from __future__ import annotations

from functools import cache

from wirewatch.models import PlaceHit
from wirewatch.rules.places import finder, resolve
from wirewatch.rules.places.index import PlaceIndex
from wirewatch.rules.places.regions import Region, RegionKind, WatchPlace

__all__ = ["Gazetteer", "Region", "RegionKind", "WatchPlace"]


class Gazetteer:
    """Names of countries, admin1 and admin2 divisions and towns, and what they may refer to."""

    def __init__(self, index: PlaceIndex) -> None:
        self.index = index

    @classmethod
    @cache
    def load(cls) -> Gazetteer:
        """The process-wide gazetteer (built once, two to three seconds)."""
        return cls(PlaceIndex.build())

    # ---- regions --------------------------------------------------------------------------
    def resolve_region(self, name: str) -> Region | None:
        """A region name from a config: a group, a country name or code, an admin1 or admin2
        name, or a town ("Punjab, India", "Helmand Province"); None when unknown."""
        return resolve.resolve_region(self.index, name)

    def elsewhere(self, name: str, region: Region) -> list[str]:
        """Other countries with a division of this name: Punjab is also a state of India."""
        return resolve.elsewhere(self.index, name, region)

    def unknown_region(self, name: str) -> str:
        """The message for a region name that ``resolve_region`` does not know."""
        return resolve.unknown_region(self.index, name)

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Known names close to ``name`` (for 'did you mean …?')."""
        return resolve.suggest(self.index, name, n)

    def describe(self, region: Region) -> str:
        """What a region name resolved to, for `wirewatch check`: 'town in Balochistan,
        Pakistan'; 'group of 5: Burkina Faso, Chad, Mali, Mauritania, Niger'."""
        return resolve.describe(self.index, region)

    # ---- places in an article -------------------------------------------------------------
    def find_places(self, title: str, text: str) -> list[PlaceHit]:
        """Places named in an article, resolved with the article's own country context, most
        salient first (see ``finder.find_places``)."""
        return finder.find_places(self.index, title, text)
