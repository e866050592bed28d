"""Place names as the gazetteer compares them: folding, administrative endings, English words.

Also the few lists no package has: everyday country aliases, demonyms, and the capitalised
words never taken for places (``rules/places/data/stopwords.txt``).

Names are compared in their folded form (``fold``): lower-case ASCII, single spaces.
"""

from __future__ import annotations

import unicodedata
from importlib.resources import files

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


def _stopword_lines() -> list[str]:
    """Non-comment lines of ``rules/places/data/stopwords.txt``."""
    text = (files("wirewatch.rules.places") / "data" / "stopwords.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


# Capitalised words never taken for places (rules/places/data/stopwords.txt says why).
STOPWORDS = frozenset(word for line in _stopword_lines() for word in line.split())

_FOLD = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-"})


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
