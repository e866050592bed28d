"""Regions: what a region name in a config means (``Region``), and a watch's own places."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from wirewatch.models import PlaceHit
from wirewatch.rules.places.names import fold

RegionKind = Literal["country", "admin1", "admin2", "place", "group"]

# How the kinds rank where a name means several things: a group first, a town last.
KIND_RANK = {"group": 5, "country": 4, "admin1": 3, "admin2": 2, "place": 1}


@dataclass(frozen=True)
class Region:
    """A watched region: a country, a first- or second-level division, a single place, or a
    group of several countries or divisions (the Sahel, Darfur)."""

    name: str
    kind: RegionKind
    country: str  # ISO 3166-1 alpha-2 ("" for a group across countries)
    admin1: str | None = None
    members: frozenset[str] = field(default=frozenset(), repr=False)  # admin2: folded names
    parts: tuple[Region, ...] = field(default=(), repr=False)  # a group: what it joins

    def contains(self, hit: PlaceHit) -> bool:
        if self.kind == "group":  # a part's place, or a one-country group's name ("Darfur")
            return self._named(hit) or any(part.contains(hit) for part in self.parts)
        if hit.country != self.country:
            return False
        if self.kind == "country":
            return True
        same_admin1 = hit.admin1 is not None and fold(hit.admin1) == fold(self.admin1 or "")
        if self.kind == "admin1":
            return same_admin1
        if self.kind == "admin2":
            return same_admin1 and fold(hit.resolved) in self.members
        return fold(hit.resolved) == fold(self.name)

    def _named(self, hit: PlaceHit) -> bool:
        return hit.country == self.country and fold(hit.resolved) == fold(self.name)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class WatchPlace:
    """A name a watch adds to its regions (``watches[].places``): a place inside ``region``.

    It is found where it is written as given or in capitals (a dateline), on word boundaries.
    """

    name: str
    region: Region
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        forms = sorted({self.name, self.name.upper()}, key=len, reverse=True)
        alternation = "|".join(re.escape(f) for f in forms)
        object.__setattr__(self, "pattern", re.compile(rf"(?<!\w)(?:{alternation})(?!\w)"))

    def hit(self, in_lead: bool) -> PlaceHit:
        """The place as the region gate sees it: inside the region, under the watch's name."""
        area = self.region.kind in ("country", "admin1")
        resolved = self.name if area else self.region.name
        region = self.region
        local = bool(region.admin1) and resolved != region.admin1  # "Makran", not "FATA"
        return PlaceHit(self.name, resolved, region.country, region.admin1, in_lead, local)
