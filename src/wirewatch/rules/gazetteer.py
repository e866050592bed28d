"""Offline gazetteer: countries, admin1 and admin2 divisions, towns and the places an article names.

Built at start from the data of ``place_names.py``:
- countries (pycountry's names and the everyday aliases), admin1 names (the data's, shortened
  when the rest is distinctive: "Borno State" -> "Borno", and pycountry's ISO 3166-2 names);
- second-level divisions (districts, agencies, counties): the ``county`` names of the towns,
  also without an ending such as "District" or "Agency"; each lies in its towns' admin1;
- towns, their alternate spellings, and the aliases of ``data/aliases.tsv``;
- groups of countries or divisions (``region_groups.py``), for ``regions:`` only.

Place finding is deliberately precise rather than greedy; see ``docs/matching.md``.
"""

from __future__ import annotations

import difflib
import gc
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Literal, NamedTuple

from wirewatch import defaults
from wirewatch.models import PlaceHit
from wirewatch.rules.place_names import (
    ADMIN1_ENDINGS,
    ADMIN1_RENAMED,
    ADMIN2_ENDINGS,
    COUNTRIES_OUTSIDE_ISO,
    COUNTRY_ALIASES,
    DEMONYMS,
    STOPWORDS,
    Town,
    ascii_name,
    distinctive,
    english_words,
    fold,
    is_word,
    read_aliases,
    read_alternates,
    read_towns,
    release_free_memory,
    short_name,
)
from wirewatch.rules.region_groups import GroupSpec, read_groups

log = logging.getLogger(__name__)

RegionKind = Literal["country", "admin1", "admin2", "place", "group"]

# A lower-case word right after a name that says it is a district: "Kurram district".
ADMIN2_CUES = frozenset({"district", "agency", "tehsil", "division", "county", "tribal"})
_TOKEN = re.compile(r"[^\W\d_][\w'’.&-]*|\d+")
_CONNECTORS = frozenset(
    {"and", "of", "de", "del", "la", "le", "al", "el", "e", "va", "&", "es", "da", "do", "du", "di"}
)  # inside a name: "Dar es Salaam", "Mocimboa da Praia"
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_MAX_NAME_TOKENS = 5
_ARABIC_ARTICLES = tuple(
    f"{article}{joint}"
    for article in ("al", "el", "an", "ar", "as", "ash", "at", "ad", "az")
    for joint in " -"
)
_KIND_RANK = {"group": 5, "country": 4, "admin1": 3, "admin2": 2, "place": 1}
_KIND_WORDS = {"admin1": "province or state", "admin2": "district", "place": "town"}


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


class Entry(NamedTuple):
    """One thing a name can refer to (a tuple: 300,000 of them are built at start)."""

    kind: RegionKind
    name: str  # canonical
    country: str
    admin1: str | None
    population: int


@dataclass
class _Mention:
    written: str
    start: int  # character offset in the combined title + text
    candidates: list[Entry]
    word: bool = False  # made of English words only: "Tank", "Gulf", "Middle East"
    weak: bool = False  # a word, another language's name, or part of a person's: "Mir Ali"
    joined: str = ""  # part of a longer capitalised name: "before" ("Mir Ali"), "after"
    cue: bool = False  # followed by "district", "agency", ...


@dataclass
class _Admin2:
    name: str
    country: str
    admin1s: dict[str, int] = field(default_factory=dict)  # admin1 -> towns
    spellings: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    population: int = 0


class Gazetteer:
    """Names of countries, admin1 and admin2 divisions and towns, and what they may refer to."""

    def __init__(self) -> None:
        self._index: dict[str, list[Entry]] = defaultdict(list)
        self._alternates: dict[str, list[Entry]] = defaultdict(list)  # never matched in CAPS
        self._countries: dict[str, str] = {}  # alpha-2 -> name
        self._display: dict[str, str] = {}  # folded -> a display spelling, for suggest()
        self._members: dict[Entry, frozenset[str]] = {}  # admin2 -> folded names inside it
        self._aliases: set[str] = set()  # folded aliases from data/aliases.tsv
        self._groups: dict[str, Region] = {}  # folded name or alias -> group
        self._broad: set[str] = set()  # names of groups across countries: like common words
        self._words: frozenset[str] = frozenset()

    # ---- building -------------------------------------------------------------------------
    @classmethod
    @cache
    def load(cls) -> Gazetteer:
        """The process-wide gazetteer (built once, about two seconds)."""
        gazetteer = cls()
        enabled = gc.isenabled()
        gc.disable()  # building makes ~1M objects and no cycles: collecting meanwhile costs ~30 %
        try:
            gazetteer._build()
        finally:
            if enabled:
                gc.enable()
        release_free_memory()
        return gazetteer

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
        entries = (self._index if index is None else index)[key]
        for i, old in enumerate(entries):
            if old.name == entry.name and old.kind == entry.kind and old.country == entry.country:
                if old.admin1 != entry.admin1:
                    continue
                if entry.population > old.population:
                    entries[i] = entry  # the same town listed twice: keep the larger
                return
        entries.append(entry)
        if index is None:
            self._display.setdefault(key, name if display else entry.name)

    def _build(self) -> None:
        import pycountry

        alternates = read_alternates()  # first: what its parsing frees is reused below
        self._words = english_words()
        towns = read_towns()
        admin1 = self._admin1_names(towns)
        places = [
            Entry("place", t.name, t.country, admin1[(t.country, t.state)] or None, t.population)
            for t in towns
        ]
        size: dict[tuple[str, str], int] = defaultdict(int)
        for place in places:
            size[(place.country, place.admin1 or "")] += max(place.population, 1000)
        for country in pycountry.countries:
            self._add_country(country, size)
        self._countries.update(COUNTRIES_OUTSIDE_ISO)
        for alias, code in COUNTRY_ALIASES.items():
            self._add(alias, self._country_entry(code, size), display=False)
        for (cc, state), canonical in admin1.items():
            if canonical:
                entry = Entry("admin1", canonical, cc, canonical, size[(cc, canonical)])
                self._add(canonical, entry)
                self._add(state, entry, display=False)
        self._add_subdivisions(pycountry, admin1, size)
        self._add_admin2(towns, places)
        self._add_places(towns, places)
        self._add_alternates(alternates)
        self._add_without_article()
        self._add_aliases()
        for spec in read_groups():
            self._add_group(spec)
        # Later only names are looked up in it (and their singulars): keep those few thousand.
        keys = self._index.keys() | self._alternates.keys()
        singulars = {k[:-1] for k in keys if k[-1:] == "s"} | {
            k[:-2] for k in keys if k[-2:] == "es"
        }
        self._words = self._words & (keys | singulars)

    def _add_places(self, towns: list[Town], places: list[Entry]) -> None:
        index, display = self._index, self._display
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
                short = short_name(full, ADMIN1_ENDINGS, self._words)
                names[key] = ADMIN1_RENAMED.get(key, short or full)
        return names

    def _country_entry(self, code: str, size: dict[tuple[str, str], int]) -> Entry:
        population = sum(v for (cc, _), v in size.items() if cc == code) * 10
        return Entry("country", self._countries.get(code, code), code, None, population)

    def _add_country(self, country: object, size: dict[tuple[str, str], int]) -> None:
        code = country.alpha_2  # type: ignore[attr-defined]
        names = [getattr(country, a, None) for a in ("common_name", "name", "official_name")]
        names = [n for n in names if n]
        self._countries[code] = names[0]
        entry = self._country_entry(code, size)
        for name in names:
            self._add(name, entry)

    def _add_subdivisions(
        self,
        pycountry: object,
        admin1: dict[tuple[str, str], str],
        size: dict[tuple[str, str], int],
    ) -> None:
        """ISO 3166-2 names (pycountry), mapped onto the data's admin1 names where they match."""
        known: dict[str, dict[str, str]] = defaultdict(dict)  # country -> folded -> canonical
        for (cc, state), canonical in admin1.items():
            if canonical:
                short = short_name(ascii_name(state), ADMIN1_ENDINGS, frozenset())
                for name in (short, state, canonical):  # "Chin" is "Chin State"
                    if name:
                        known[cc][fold(name)] = canonical
        for sub in pycountry.subdivisions:  # type: ignore[attr-defined]
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
            self._members[entry] = frozenset(group.members | {fold(group.name)})
            self._add(group.name, entry)
            for spelling in group.spellings:
                self._add(spelling, entry, display=False)

    def _add_alternates(self, rows: list[tuple[str, str, set[str]]]) -> None:
        """Latin-script alternate names of larger towns, unless the name means something else."""
        primary = set(self._index)
        for name, cc, alternates in rows:
            towns = [e for e in self._index.get(fold(name), ()) if e.kind == "place"]
            towns = [e for e in towns if e.country == cc]
            if not towns:
                continue
            town = max(towns, key=lambda e: e.population)
            own = fold(name)
            for key in alternates - primary:
                if distinctive(key, self._words):
                    variant = key[:2] == own[:2] and abs(len(key) - len(own)) <= 3
                    self._add(key, town, key=key, index=None if variant else self._alternates)

    def _add_without_article(self) -> None:
        """Divisions known with the Arabic article are known without it too, as the English
        press writes them: "Anbar" (Al Anbar), "Muthanna" (Al Muthanna), "Jazirah" (Al Jazirah)."""
        found: dict[str, list[Entry]] = {}  # added after the walk: no copy of the index
        for key, entries in self._index.items():
            if not key.startswith(_ARABIC_ARTICLES):  # "al anbar", "ar-raqqah"
                continue
            article = next(a for a in _ARABIC_ARTICLES if key.startswith(a))
            short = key[len(article) :]
            taken = short in self._index or short in self._alternates or short in found
            if taken or not distinctive(short, self._words):  # "Quds" stays Jerusalem
                continue
            if divisions := [e for e in entries if e.kind in ("admin1", "admin2")]:
                found[short] = divisions
        for short, entries in found.items():
            for entry in entries:
                self._add(short, entry, display=False, key=short)

    def _add_aliases(self) -> None:
        for alias, cc, canonical in read_aliases():
            entries = [e for e in self._index.get(fold(canonical), ()) if e.country == cc]
            if not entries:
                log.warning("gazetteer alias %r: no %r in %s", alias, canonical, cc)
                continue
            for entry in entries:
                self._add(alias, entry, display=False)
            self._aliases.add(fold(alias))

    def _add_group(self, spec: GroupSpec) -> None:
        parts = tuple(self._group_member(spec.name, member) for member in spec.members)
        countries = {part.country for part in parts}
        country = next(iter(countries)) if len(countries) == 1 else ""
        group = Region(spec.name, "group", country, parts=parts)
        for name in spec.names:
            self._groups[fold(name)] = group
        if len(countries) > 1:  # "across the Sahel" is Burkina Faso's province only in its context
            self._broad.update(fold(name) for name in spec.names)
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
            if code not in self._countries:
                raise ValueError(f"region group {group!r}: unknown country code {code!r}")
            return Region(self._countries[code], "country", code)
        entries = [
            e
            for e in self.entries(division)
            if e.country == code and e.kind in ("admin1", "admin2")
        ]
        if not entries:
            raise ValueError(f"region group {group!r}: no division {division!r} in {code}")
        return self.region_of(max(entries, key=lambda e: _KIND_RANK[e.kind]))

    # ---- regions --------------------------------------------------------------------------
    def region_of(self, entry: Entry) -> Region:
        members = self._members.get(entry, frozenset())
        return Region(entry.name, entry.kind, entry.country, entry.admin1, members)

    def resolve_region(self, name: str) -> Region | None:
        """A region name from a config: a group, a country name or code, an admin1 or admin2
        name, or a town. "Punjab, India" is the one in that country; "Amhara Region" and
        "Helmand Province" are the divisions the data calls Amhara and Helmand."""
        key = fold(name)
        if len(key) == 2 and key.isalpha() and key not in self._aliases:
            code = key.upper()  # "KP" is Khyber Pakhtunkhwa (an alias), not North Korea's code
            known = code in self._countries
            return Region(self._countries[code], "country", code) if known else None
        if key in self._groups:  # "Sahel": the region, not Burkina Faso's province
            return self._groups[key]
        entries = self._candidates(name)
        place, _, country = name.rpartition(",")
        if not entries and place.strip() and country.strip():  # "Korea, Republic of" is whole
            within = self.resolve_region(country)
            if within is None or within.kind != "country":
                return None
            entries = [e for e in self._candidates(place) if e.country == within.country]
        if not entries:
            return None
        return self.region_of(max(entries, key=lambda e: (_KIND_RANK[e.kind], e.population)))

    def _candidates(self, name: str) -> list[Entry]:
        """What a region name may mean; with an administrative ending, the divisions only."""
        if entries := self.entries(name):
            return entries
        for endings, kind in ((ADMIN1_ENDINGS, "admin1"), (ADMIN2_ENDINGS, "admin2")):
            short = short_name(name, endings, frozenset())
            if short and (found := [e for e in self.entries(short) if e.kind == kind]):
                return found
        return []

    def elsewhere(self, name: str, region: Region) -> list[str]:
        """Other countries with a division of this name: Punjab is also a state of India."""
        if region.kind not in ("admin1", "admin2"):
            return []
        others = {
            e.country
            for e in self.entries(name)
            if e.kind in ("admin1", "admin2") and e.country != region.country
        }
        return sorted(self._countries.get(code, code) for code in others)

    def unknown_region(self, name: str) -> str:
        """The message for a region name that ``resolve_region`` does not know."""
        hint = ", ".join(self.suggest(name)[:3])
        return f"unknown region {name!r}" + (f" (did you mean {hint}?)" if hint else "")

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Known names close to ``name`` (for 'did you mean …?')."""
        groups = {key: group.name for key, group in self._groups.items()}
        known = [*groups, *self._display]
        close = difflib.get_close_matches(fold(name), known, n=n * 3, cutoff=0.75)
        ranked = sorted(
            close,
            key=lambda k: (
                -difflib.SequenceMatcher(None, fold(name), k).ratio(),
                -max(_KIND_RANK[e.kind] for e in self._index[k]) if k not in groups else -5,
            ),
        )
        return list(dict.fromkeys(groups.get(k) or self._display[k] for k in ranked))[:n]

    def describe(self, region: Region) -> str:
        """What a region name resolved to, for `wirewatch check`: 'town in Balochistan,
        Pakistan'; 'group of 5: Burkina Faso, Chad, Mali, Mauritania, Niger'."""
        if region.kind == "group":
            parts = sorted(part.name for part in region.parts)
            shown = ", ".join(parts[:8]) + (f" and {len(parts) - 8} more" if len(parts) > 8 else "")
            return f"group of {len(parts)}: {shown}"
        country = self._countries.get(region.country, region.country)
        if region.kind == "country":
            return "country"
        within = f"{region.admin1}, {country}" if region.admin1 != region.name else country
        return f"{_KIND_WORDS[region.kind]} in {within}"

    def entries(self, name: str) -> list[Entry]:
        key = fold(name)
        return [*self._index.get(key, []), *self._alternates.get(key, [])]

    def _lookup(self, span: str) -> tuple[list[Entry], bool]:
        """Entries for a name as written, and whether they come from another name of a town
        ("Bombay", "Quds"; never looked up in capitals, where they are acronyms: "ISNA")."""
        key = fold(span)
        found = self._index.get(key) or self._index.get(key.rstrip("."))
        if found or span.isupper():
            return found or [], False
        found = self._alternates.get(key) or self._alternates.get(key.rstrip("."))
        return found or [], True

    # ---- places in an article -------------------------------------------------------------
    def find_places(self, title: str, text: str) -> list[PlaceHit]:
        """Places named in an article, resolved with the article's own country context.

        One hit per distinct resolved place, most salient first: places of the article's main
        country (the one its mentions point at most; title 3, lead 2, body 1 per mention),
        then the rest. ``in_lead`` when a mention is in the title, the dateline or the
        first ``LEAD_PARAGRAPHS`` paragraphs.
        """
        combined = f"{title}\n\n{text}"
        title_end, lead_end = len(title), len(title) + 2 + _lead_length(text)
        mentions = self._mentions(combined)
        context, provinces = _context(combined, mentions), _named_admin1s(mentions)
        hits: dict[Entry, PlaceHit] = {}
        weights: dict[Entry, int] = defaultdict(int)
        for mention in mentions:
            entry = _choose(mention, context, provinces)
            if entry is None:
                continue
            in_lead = mention.start < lead_end
            weights[entry] += 3 if mention.start < title_end else 2 if in_lead else 1
            old = hits.get(entry)
            if old is None or (in_lead and not old.in_lead):
                written = old.name if old else mention.written
                hits[entry] = PlaceHit(
                    written, entry.name, entry.country, entry.admin1, in_lead, self._local(entry)
                )
        by_country: dict[str, int] = defaultdict(int)
        for entry, weight in weights.items():
            by_country[entry.country] += weight
        first = {entry: i for i, entry in enumerate(hits)}
        order = sorted(hits, key=lambda e: (-by_country[e.country], -weights[e], first[e]))
        return [hits[e] for e in order]

    def _local(self, entry: Entry) -> bool:
        """A town or district, or a province named like the city in it ("Kabul", "Islamabad"):
        in news the name stands for the city."""
        if entry.kind in ("place", "admin2"):
            return True
        return entry.kind == "admin1" and any(
            e.kind == "place" and e.country == entry.country and e.admin1 == entry.admin1
            for e in self._index.get(fold(entry.name), ())
        )

    def _mentions(self, text: str) -> list[_Mention]:
        tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
        lowered = {t.lower() for t, _ in tokens if t[:1].islower()}
        mentions: list[_Mention] = []
        i = 0
        while i < len(tokens):
            found = self._longest_name(tokens, i, text, lowered)
            if found is None:
                if "-" in tokens[i][0]:  # "Peshawar-bound", "Quetta-Chaman"
                    mentions.extend(self._hyphenated(tokens[i], text, lowered))
                i += 1
                continue
            n, candidates, alternate = found
            mention = self._mention(tokens, i, n, text, candidates)
            if n == 1:  # "Mir Ali", "Ali Amin Gandapur"
                mention.joined = _joined(tokens, i, text, lowered)
            mention.weak = mention.word or alternate or bool(mention.joined)
            mentions.append(mention)
            i += n
        return mentions

    def _mention(
        self, tokens: list[tuple[str, int]], i: int, n: int, text: str, candidates: list[Entry]
    ) -> _Mention:
        start, end = tokens[i][1], tokens[i + n - 1][1] + len(tokens[i + n - 1][0])
        written = _strip_possessive(text[start:end]).rstrip(".")
        mention = _Mention(written, start, candidates)
        names = [w for w in re.split(r"[\s-]+", fold(written)) if w not in _CONNECTORS]
        mention.word = fold(written) in self._broad or all(  # "Middle East", "Tank"; not "DI Khan"
            len(w) > 2 and (is_word(w, self._words) or w in STOPWORDS) for w in names
        )
        mention.weak = mention.word
        if (mention.word and _sentence_start(text, start)) or fold(written) in DEMONYMS:
            # "Along the road ...": a capital that grammar asks for; "Canadian": a demonym
            mention.candidates = [e for e in candidates if e.kind in ("country", "admin1")]
        following = tokens[i + n] if i + n < len(tokens) else None
        if following and following[0] in ADMIN2_CUES and "\n" not in text[end : following[1]]:
            admin2 = [e for e in mention.candidates if e.kind == "admin2"]
            mention.candidates, mention.cue = admin2 or mention.candidates, bool(admin2)
        return mention

    def _hyphenated(self, token: tuple[str, int], text: str, lowered: set[str]) -> list[_Mention]:
        """Places inside a hyphenated word that is no name as a whole: 'Quetta-Chaman'."""
        parts = [(m.group(), token[1] + m.start()) for m in re.finditer(r"[^\W\d_]+", token[0])]
        mentions = []
        for j in range(len(parts)):
            found = self._longest_name(parts[j : j + 1], 0, text, lowered)
            if found is not None:
                mention = self._mention(parts, j, 1, text, found[1])
                mention.weak = mention.weak or found[2]
                mentions.append(mention)
        return mentions

    def _longest_name(
        self, tokens: list[tuple[str, int]], i: int, text: str, lowered: set[str]
    ) -> tuple[int, list[Entry], bool] | None:
        if not tokens[i][0][:1].isupper():
            return None
        for n in range(min(_MAX_NAME_TOKENS, len(tokens) - i), 0, -1):
            last = tokens[i + n - 1][0]
            if not _is_name_token(last) or (n == 1 and not _is_name_token(tokens[i][0])):
                continue
            span = _strip_possessive(text[tokens[i][1] : tokens[i + n - 1][1] + len(last)])
            if "\n" in span:
                continue
            words = [t for t, _ in tokens[i + 1 : i + n]]
            if any(w.lower() not in _CONNECTORS and not w[:1].isupper() for w in words):
                continue
            candidates, alternate = self._lookup(span)
            if not candidates:
                continue
            if n == 1 and _is_common_word(last, lowered):
                return None
            return n, candidates, alternate
        return None


def _joined(tokens: list[tuple[str, int]], i: int, text: str, lowered: set[str]) -> str:
    """Whether the one-token name i is part of a longer capitalised name: 'before' when a
    name word precedes it ('Mir Ali', 'Mr Farah'), 'after' when one follows ('Ali Amin'),
    else ''.

    A neighbour counts when only a space separates them and it is capitalised, not in
    capitals, not a word the article also writes in lower case ("In Quetta"), not a
    stopword ("Police", "North", "Minister"), connector or demonym ("Pakistani Punjab"),
    and not possessive ("Pakistan's Kurram"). Never in a Title Case line: a headline
    capitalises every word.
    """
    for j in (i - 1, i + 1):
        if not 0 <= j < len(tokens):
            continue
        (first, at), (_, second_at) = sorted((tokens[j], tokens[i]), key=lambda t: t[1])
        neighbour = tokens[j][0]
        if text[at + len(first) : second_at] != " " or not neighbour[:1].isupper():
            continue
        word = fold(neighbour.rstrip("."))
        if neighbour.isupper() or word in STOPWORDS or word in _CONNECTORS or word in DEMONYMS:
            continue
        if word in lowered or (j < i and re.search(r"['’]s?$", neighbour)):
            continue
        if not _title_case(text, tokens[i][1]):
            return "before" if j < i else "after"
    return ""


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" ")
    return not before or before[-1] in "\n.!?:;\"“‘'([–—-"


def _title_case(text: str, at: int) -> bool:
    """Whether the line around ``at`` capitalises most of its longer words (a headline)."""
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    words = re.findall(r"[^\W\d_]{4,}", text[start : end if end >= 0 else None])
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _context(text: str, mentions: list[_Mention]) -> set[str]:
    """Countries the article itself establishes: named countries, demonyms, sure places."""
    countries: set[str] = set()
    for word in re.findall(r"[A-Z][a-z]+", text):
        code = DEMONYMS.get(word.lower().removesuffix("s"))
        if code:
            countries.add(code)
    for mention in mentions:
        sure = {e.country for e in mention.candidates if _sure(e, mention)}
        if len(sure) == 1 and len({e.country for e in mention.candidates}) == 1:
            countries |= sure
    return countries


def _named_admin1s(mentions: list[_Mention]) -> set[tuple[str, str]]:
    """(country, admin1) of the provinces the article names unambiguously: "Chhattisgarh"."""
    named = set()
    for mention in mentions:
        kinds = {(e.kind, e.country, e.name) for e in mention.candidates}
        if len(kinds) == 1:
            kind, country, name = kinds.pop()
            if kind == "admin1" and _sure(mention.candidates[0], mention):
                named.add((country, name))
    return named


def _sure(entry: Entry, mention: _Mention) -> bool:
    """Whether ``entry`` may be taken for ``mention`` without the article naming its country."""
    if entry.kind == "country":
        return True
    if entry.kind == "admin1":
        # "Gulf" (Papua New Guinea) and "Mr Farah" need the article's country; not
        # "Balochistan Liberation Army"
        return not mention.word and mention.joined != "before"
    if mention.weak:  # "Tank", "Hit", "Bombay", "Mir Ali": only a world city is sure
        world_city = defaults.GAZETTEER_COMMON_WORD_MIN_POPULATION
        return entry.kind == "place" and entry.population >= world_city
    if entry.kind == "admin2":  # "Bajaur", "North Waziristan" ("Johnson County" only in full)
        return True
    return entry.population >= defaults.GAZETTEER_MIN_POPULATION


def _choose(
    mention: _Mention, context: set[str], provinces: set[tuple[str, str]] = frozenset()
) -> Entry | None:
    """The entry a mention refers to, or None when too unsure (an unknown small town).

    Among places of one name, one in a province the article names wins ("Chhattisgarh's
    Bijapur" is not Karnataka's); else one in a country it names; else the most populous.
    """
    candidates = mention.candidates
    if mention.weak:  # a small town named like a word or a person never counts: "Chamber"
        smallest = (
            defaults.GAZETTEER_JOINED_MIN_POPULATION
            if mention.joined
            else defaults.GAZETTEER_MIN_POPULATION
        )
        candidates = [e for e in candidates if e.kind != "place" or e.population >= smallest]
    in_province = [e for e in candidates if (e.country, e.admin1) in provinces]
    in_context = [e for e in candidates if e.country in context]
    pool = in_province or in_context or [e for e in candidates if _sure(e, mention)]
    if not pool:
        return None
    return max(pool, key=lambda e: (e.population, _KIND_RANK[e.kind]))


def _is_name_token(token: str) -> bool:
    token = _strip_possessive(token)  # "BLA's" is an acronym too
    if not token[:1].isupper():
        return False
    return not (token.isupper() and len(token.rstrip(".")) <= 3 and "." not in token)


def _is_common_word(token: str, lowered: set[str]) -> bool:
    word = token.rstrip(".'’").lower()
    return word in STOPWORDS or word in lowered


def _strip_possessive(span: str) -> str:
    return re.sub(r"['’]s?$", "", span)


def _lead_length(text: str) -> int:
    """Characters of the text that belong to the lead (first LEAD_PARAGRAPHS paragraphs)."""
    count, position = 0, 0
    for match in _PARAGRAPH.finditer(text):
        if text[position : match.start()].strip():
            count += 1
            if count >= defaults.LEAD_PARAGRAPHS:
                return match.start()
        position = match.end()
    return len(text)
