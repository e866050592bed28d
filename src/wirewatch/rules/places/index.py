"""The gazetteer's index: every name a country, division, town or group goes by -> what it means.

Built once at start (``PlaceIndex.build``) from the data ``sources.py`` reads:
- countries (pycountry's names and the everyday aliases), admin1 names (the data's, shortened
  when the rest is distinctive: "Borno State" -> "Borno", and pycountry's ISO 3166-2 names);
- second-level divisions (districts, agencies, counties): the ``county`` names of the towns,
  also without an ending such as "District" or "Agency"; each lies in its towns' admin1;
- towns, their alternate spellings, and the aliases of ``data/aliases.tsv``;
- groups of countries or divisions (``groups.py``), for ``regions:`` only;
- last, the names in other scripts (``script_names.py``), onto the entries above.
"""

from __future__ import annotations

import difflib
import gc
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from wirewatch.rules.places.groups import GroupSpec, read_groups
from wirewatch.rules.places.names import (
    ADMIN1_ENDINGS,
    ADMIN1_RENAMED,
    ADMIN2_ENDINGS,
    COUNTRIES_OUTSIDE_ISO,
    COUNTRY_ALIASES,
    ascii_name,
    distinctive,
    fold,
    short_name,
)
from wirewatch.rules.places.regions import KIND_RANK, Region, RegionKind
from wirewatch.rules.places.script_names import ScriptNames
from wirewatch.rules.places.scripts import is_latin
from wirewatch.rules.places.sources import (
    Alternates,
    Town,
    english_words,
    iso_countries,
    iso_subdivisions,
    read_aliases,
    read_alternates,
    read_towns,
    release_free_memory,
)

log = logging.getLogger(__name__)

_ARABIC_ARTICLES = tuple(
    f"{article}{joint}"
    for article in ("al", "el", "an", "ar", "as", "ash", "at", "ad", "az")
    for joint in " -"
)


class Entry(NamedTuple):
    """One thing a name can refer to (a tuple: 300,000 of them are built at start)."""

    kind: RegionKind
    name: str  # canonical
    country: str
    admin1: str | None
    population: int


@dataclass
class _Admin2:
    name: str
    country: str
    admin1s: dict[str, int] = field(default_factory=dict)  # admin1 -> towns
    spellings: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    population: int = 0


class PlaceIndex:
    """Names of countries, admin1 and admin2 divisions and towns, and what they may refer to."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[Entry]] = defaultdict(list)  # folded name -> entries
        self.alternates: dict[str, list[Entry]] = defaultdict(list)  # never matched in CAPS
        self.countries: dict[str, str] = {}  # alpha-2 -> name
        self.display: dict[str, str] = {}  # folded -> a display spelling, for suggest()
        self.members: dict[Entry, frozenset[str]] = {}  # admin2 -> folded names inside it
        self.aliases: set[str] = set()  # folded aliases from data/aliases.tsv
        self.groups: dict[str, Region] = {}  # folded name or alias -> group
        self.broad: set[str] = set()  # names of groups across countries: like common words
        self.words: frozenset[str] = frozenset()
        self.scripts = ScriptNames()  # names in the Arabic, Cyrillic, Devanagari, Bengali scripts

    @classmethod
    def build(cls) -> PlaceIndex:
        """The index of all the packaged data (about two seconds)."""
        index = cls()
        enabled = gc.isenabled()
        gc.disable()  # building makes ~1M objects and no cycles: collecting meanwhile costs ~30 %
        try:
            index._build()
        finally:
            if enabled:
                gc.enable()
        release_free_memory()
        return index

    # ---- lookups --------------------------------------------------------------------------
    def entries(self, name: str) -> list[Entry]:
        if not is_latin(name.lstrip()[:1]):
            return self.scripts.entries(name)
        key = fold(name)
        return [*self.by_name.get(key, []), *self.alternates.get(key, [])]

    def region_of(self, entry: Entry) -> Region:
        members = self.members.get(entry, frozenset())
        return Region(entry.name, entry.kind, entry.country, entry.admin1, members)

    # ---- building -------------------------------------------------------------------------
    def _add(
        self,
        name: str,
        entry: Entry,
        display: bool = True,
        key: str | None = None,
        index: dict[str, list[Entry]] | None = None,
    ) -> None:
        key = fold(name) if key is None else key
        if not key:
            return
        entries = (self.by_name if index is None else index)[key]
        for i, old in enumerate(entries):
            if old.name == entry.name and old.kind == entry.kind and old.country == entry.country:
                if old.admin1 != entry.admin1:
                    continue
                if entry.population > old.population:
                    entries[i] = entry  # the same town listed twice: keep the larger
                return
        entries.append(entry)
        if index is None:
            self.display.setdefault(key, name if display else entry.name)

    def _build(self) -> None:
        alternates = read_alternates()  # first: what its parsing frees is reused below
        script_sources = ScriptNames.read_sources()
        self.words = english_words()
        towns = read_towns()
        admin1 = self._admin1_names(towns)
        places = [
            Entry("place", t.name, t.country, admin1[(t.country, t.state)] or None, t.population)
            for t in towns
        ]
        size: dict[tuple[str, str], int] = defaultdict(int)
        for place in places:
            size[(place.country, place.admin1 or "")] += max(place.population, 1000)
        for country in iso_countries():
            self._add_country(country, size)
        self.countries.update(COUNTRIES_OUTSIDE_ISO)
        for alias, code in COUNTRY_ALIASES.items():
            self._add(alias, self._country_entry(code, size), display=False)
        for (cc, state), canonical in admin1.items():
            if canonical:
                entry = Entry("admin1", canonical, cc, canonical, size[(cc, canonical)])
                self._add(canonical, entry)
                self._add(state, entry, display=False)
        self._add_subdivisions(admin1, size)
        self._add_admin2(towns, places)
        self._add_places(towns, places)
        self._add_alternates(alternates)
        self._add_without_article()
        self._add_aliases()
        for spec in read_groups():
            self._add_group(spec)
        self.scripts = ScriptNames.build(self, alternates, script_sources, set(admin1.values()))
        # Later only names are looked up in it (and their singulars): keep those few thousand.
        keys = self.by_name.keys() | self.alternates.keys()
        singulars = {k[:-1] for k in keys if k[-1:] == "s"} | {
            k[:-2] for k in keys if k[-2:] == "es"
        }
        self.words = self.words & (keys | singulars)

    def _add_places(self, towns: list[Town], places: list[Entry]) -> None:
        index, display = self.by_name, self.display
        for town, place in zip(towns, places, strict=True):
            if town.key in index:
                self._add(town.name, place, key=town.key)
            elif town.key:  # the common case, inlined: 155,000 towns
                index[town.key] = [place]
                display[town.key] = town.name

    def _admin1_names(self, towns: list[Town]) -> dict[tuple[str, str], str]:
        """(country, GeoNames admin1 name) -> the canonical admin1 name used here."""
        names: dict[tuple[str, str], str] = {}
        for town in towns:
            key = (town.country, town.state)
            if key not in names:
                full = ascii_name(town.state)
                short = short_name(full, ADMIN1_ENDINGS, self.words)
                names[key] = ADMIN1_RENAMED.get(key, short or full)
        return names

    def _country_entry(self, code: str, size: dict[tuple[str, str], int]) -> Entry:
        population = sum(v for (cc, _), v in size.items() if cc == code) * 10
        return Entry("country", self.countries.get(code, code), code, None, population)

    def _add_country(self, country: object, size: dict[tuple[str, str], int]) -> None:
        code = country.alpha_2  # type: ignore[attr-defined]
        names = [getattr(country, a, None) for a in ("common_name", "name", "official_name")]
        names = [n for n in names if n]
        self.countries[code] = names[0]
        entry = self._country_entry(code, size)
        for name in names:
            self._add(name, entry)

    def _add_subdivisions(
        self, admin1: dict[tuple[str, str], str], size: dict[tuple[str, str], int]
    ) -> None:
        """ISO 3166-2 names (pycountry), mapped onto the data's admin1 names where they match."""
        known: dict[str, dict[str, str]] = defaultdict(dict)  # country -> folded -> canonical
        for (cc, state), canonical in admin1.items():
            if canonical:
                short = short_name(ascii_name(state), ADMIN1_ENDINGS, frozenset())
                for name in (short, state, canonical):  # "Chin" is "Chin State"
                    if name:
                        known[cc][fold(name)] = canonical
        for sub in iso_subdivisions():
            if sub.parent_code is not None:
                continue
            names = known.get(sub.country_code, {})
            key = fold(sub.name)
            short = short_name(ascii_name(sub.name), ADMIN1_ENDINGS, frozenset())
            canonical = names.get(key) or (names.get(fold(short)) if short else None)
            if canonical is None:
                close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.8)
                canonical = names[close[0]] if close else ascii_name(sub.name)
            population = size.get((sub.country_code, canonical), 1000)
            self._add(sub.name, Entry("admin1", canonical, sub.country_code, canonical, population))

    def _add_admin2(self, towns: list[Town], places: list[Entry]) -> None:
        """Second-level divisions from the towns' ``county`` names, in their towns' admin1."""
        by_county: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, town in enumerate(towns):
            if town.county:
                by_county[(town.country, town.county)].append(i)
        groups: dict[tuple[str, str], _Admin2] = {}
        for (cc, county), members in by_county.items():
            full = ascii_name(county)
            # A word left over is fine here ("Barkhan", "Ziarat"): alone it needs context anyway.
            name = short_name(full, ADMIN2_ENDINGS, frozenset()) or full
            group = groups.get((cc, name))
            if group is None:
                group = groups[(cc, name)] = _Admin2(name, cc)
            group.spellings.update((county, full))
            group.members.update(towns[i].key for i in members)
            group.population += sum(towns[i].population for i in members)
            for i in members:
                admin1 = places[i].admin1 or ""
                group.admin1s[admin1] = group.admin1s.get(admin1, 0) + 1
        for group in groups.values():
            region = max(group.admin1s, key=group.admin1s.__getitem__) or None
            entry = Entry("admin2", group.name, group.country, region, group.population)
            self.members[entry] = frozenset(group.members | {fold(group.name)})
            self._add(group.name, entry)
            for spelling in group.spellings:
                self._add(spelling, entry, display=False)

    def _add_alternates(self, rows: list[Alternates]) -> None:
        """Latin-script alternate names of larger towns, unless the name means something else."""
        primary = set(self.by_name)
        for name, cc, alternates, _ in rows:
            towns = [e for e in self.by_name.get(fold(name), ()) if e.kind == "place"]
            towns = [e for e in towns if e.country == cc]
            if not towns:
                continue
            town = max(towns, key=lambda e: e.population)
            own = fold(name)
            for key in alternates - primary:
                if distinctive(key, self.words):
                    variant = key[:2] == own[:2] and abs(len(key) - len(own)) <= 3
                    self._add(key, town, key=key, index=None if variant else self.alternates)

    def _add_without_article(self) -> None:
        """Divisions known with the Arabic article are known without it too, as the English
        press writes them: "Anbar" (Al Anbar), "Muthanna" (Al Muthanna), "Jazirah" (Al Jazirah)."""
        found: dict[str, list[Entry]] = {}  # added after the walk: no copy of the index
        for key, entries in self.by_name.items():
            if not key.startswith(_ARABIC_ARTICLES):  # "al anbar", "ar-raqqah"
                continue
            article = next(a for a in _ARABIC_ARTICLES if key.startswith(a))
            short = key[len(article) :]
            taken = short in self.by_name or short in self.alternates or short in found
            if taken or not distinctive(short, self.words):  # "Quds" stays Jerusalem
                continue
            if divisions := [e for e in entries if e.kind in ("admin1", "admin2")]:
                found[short] = divisions
        for short, entries in found.items():
            for entry in entries:
                self._add(short, entry, display=False, key=short)

    def _add_aliases(self) -> None:
        for alias, cc, canonical in read_aliases():
            if not is_latin(alias[:1]):
                continue  # in the Arabic script, say: script_names.py
            entries = [e for e in self.by_name.get(fold(canonical), ()) if e.country == cc]
            if not entries:
                log.warning("gazetteer alias %r: no %r in %s", alias, canonical, cc)
                continue
            for entry in entries:
                self._add(alias, entry, display=False)
            self.aliases.add(fold(alias))

    def _add_group(self, spec: GroupSpec) -> None:
        parts = tuple(self._group_member(spec.name, member) for member in spec.members)
        countries = {part.country for part in parts}
        country = next(iter(countries)) if len(countries) == 1 else ""
        group = Region(spec.name, "group", country, parts=parts)
        for name in spec.names:
            self.groups[fold(name)] = group
        if len(countries) > 1:  # "across the Sahel" is Burkina Faso's province only in its context
            self.broad.update(fold(name) for name in spec.names)
        if len(countries) == 1:  # "fighting in Darfur": a place in Sudan for articles too
            size = sum(
                e.population for p in parts for e in self.entries(p.name) if e.kind == p.kind
            )
            admin1s = {part.admin1 for part in parts}
            in_one = len(admin1s) == 1 and all(part.kind == "admin2" for part in parts)
            kind, admin1 = ("admin2", admin1s.pop()) if in_one else ("admin1", spec.name)
            entry = Entry(kind, spec.name, countries.pop(), admin1, size)
            for name in spec.names:
                self._add(name, entry, display=name == spec.name)

    def _group_member(self, group: str, member: str) -> Region:
        """``CC`` (a country) or ``CC:Name`` (a division of it), as region_groups.tsv says."""
        code, _, division = member.partition(":")
        if not division:
            if code not in self.countries:
                raise ValueError(f"region group {group!r}: unknown country code {code!r}")
            return Region(self.countries[code], "country", code)
        entries = [
            e
            for e in self.entries(division)
            if e.country == code and e.kind in ("admin1", "admin2")
        ]
        if not entries:
            raise ValueError(f"region group {group!r}: no division {division!r} in {code}")
        return self.region_of(max(entries, key=lambda e: KIND_RANK[e.kind]))
