"""Place names in other scripts (Arabic, Cyrillic, Devanagari, Bengali): folding, words, stems.

Names in these scripts are compared in their folded form (``script_fold``), which makes the
spellings of one name in Urdu, Persian, Pashto and Arabic meet:

- Arabic script: harakat, hamza above or below, madda, superscript alef, tatweel and the
  zero-width (non-)joiner go; the letters languages write differently are made one: kaf
  (ك ڪ → ک), yeh (ي ى ې ۍ ے ئ → ی), heh (ة ہ ە ھ ۃ, and so ۀ ۂ → ه), alef (أ إ آ ٱ → ا), waw
  (ؤ → و), and Pashto's own letters their Urdu or Persian neighbours (ګ → گ, ټ → ٹ, ډ → ڈ,
  ړ → ڑ, ڼ → ن, ښ → ش, ږ → ژ);
- Cyrillic: lower case, ё → е;
- Devanagari and Bengali: nukta goes (ज़ → ज), candrabindu is anusvara, and a nasal with a
  virama before a consonant is anusvara (पन्जाब → पंजाब);
- hyphens are spaces, spaces single.

Russian and Ukrainian inflect names (в Махачкале, у Харкові, Волгоградской области): names
and words are also compared by ``stem``, the word without one case ending.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that other languages of a script write differently, after decomposition (NFKD):
# "ۂ" is "ہ" + hamza above, and the hamza goes with the other marks.
_LETTERS = {
    "ك": "ک", "ڪ": "ک",
    "ي": "ی", "ى": "ی", "ې": "ی", "ۍ": "ی", "ے": "ی", "ێ": "ی",
    "ة": "ه", "ہ": "ه", "ە": "ه", "ھ": "ه", "ۃ": "ه",
    "ٱ": "ا",
    "ګ": "گ", "ټ": "ٹ", "ډ": "ڈ", "ړ": "ڑ", "ڼ": "ن", "ښ": "ش", "ږ": "ژ",
    "ء": "", "ـ": "", "\u200c": "", "\u200d": "", "\u200b": "", "\u00ad": "",
    "\u0901": "\u0902",  # Devanagari candrabindu -> anusvara
    "-": " ", "‐": " ", "‑": " ", "–": " ", "—": " ", "’": "'", "ʼ": "'", "`": "'",
}  # fmt: skip
_KEPT_MARKS = frozenset("\u094d\u09cd")  # the viramas: they make the conjuncts
_KEPT_LETTERS = frozenset("йЙїЇ")  # letters of their own, not и and і with a mark
_NASAL = re.compile("([ङञणनम])\u094d(?=[क-ह])")
# Word characters of these scripts: letters and the marks Python's \w leaves out (Devanagari
# vowel signs, Arabic harakat), joined by a zero-width (non-)joiner or an apostrophe
# (Ukrainian "Слов'янськ").
_MARKS = "".join(
    chr(c) for c in range(0x0300, 0x0E00) if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me")
)
_LETTER = rf"[^\W\d_]|[{_MARKS}]"
WORD = re.compile(rf"(?:{_LETTER})(?:{_LETTER}|[\u200c\u200d]|['’ʼ](?=[^\W\d_]))*")


class _Folded(dict[int, str]):
    """str.translate table, filled on first use (see the module docstring)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in _KEPT_LETTERS:
            value = char
        elif char in _LETTERS:
            value = _LETTERS[char]
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            value = "".join(
                _LETTERS.get(c, c)
                for c in decomposed
                if not unicodedata.combining(c) or c in _KEPT_MARKS
            )
        self[code] = value
        return value


_FOLDED = _Folded()


def script_fold(name: str) -> str:
    """The lookup key of a name in another script: 'کوئٹہ' and 'كويته' -> 'کویٹه'."""
    folded = name.translate(_FOLDED).lower()
    if "\u094d" in folded:
        folded = _NASAL.sub("\u0902", folded)
    return " ".join(folded.split())


def is_latin(char: str) -> bool:
    """Whether a letter is Latin (or any script below Greek), as the English path reads it."""
    return char < "\u0370" or "\u1e00" <= char <= "\u1eff"


def script_of(word: str) -> str:
    """'arabic', 'cyrillic', 'devanagari', 'bengali', 'latin' or 'other', by the first letter."""
    char = word[:1]
    if is_latin(char):
        return "latin"
    if "\u0400" <= char <= "\u052f":
        return "cyrillic"
    if "\u0600" <= char <= "\u08ff" or "\ufb50" <= char <= "\ufeff":
        return "arabic"
    if "\u0900" <= char <= "\u097f":
        return "devanagari"
    if "\u0980" <= char <= "\u09ff":
        return "bengali"
    return "other"


SCRIPTS = frozenset({"arabic", "cyrillic", "devanagari", "bengali"})

# Countries whose own press writes in a language: there, a town's or a province's name in its
# script is its everyday name; elsewhere it is a transliteration, and many of those are also
# words ("امن", peace in Urdu, is Emmen in the Netherlands; "قوم", nation, is Qom). The
# languages of the Arabic script by their own letters (``arabic_language``); Cyrillic: the
# former Soviet Union, Mongolia and the Balkan states that write it; Devanagari: India and
# Nepal; Bengali: Bangladesh and India.
# fmt: off
NATIVE = {
    "ar": frozenset({
        "DZ", "BH", "KM", "DJ", "EG", "IQ", "JO", "KW", "LB", "LY", "MR", "MA", "OM", "PS", "QA",
        "SA", "SO", "SD", "SY", "TN", "AE", "YE", "EH",
    }),
    "fa": frozenset({"IR", "AF", "TJ"}),
    "ps": frozenset({"AF", "PK"}),
    "ur": frozenset({"PK"}),
    "cyrillic": frozenset({
        "RU", "UA", "BY", "KZ", "KG", "TJ", "UZ", "TM", "MD", "GE", "AM", "AZ", "MN", "BG", "RS",
        "MK", "ME", "BA", "XK",
    }),
    "devanagari": frozenset({"IN", "NP"}),
    "bengali": frozenset({"BD", "IN"}),
}
# fmt: on
_PASHTO = frozenset("ټډړښږځڅڼېۍګ")
_URDU = frozenset("ٹڈڑںےھہۓ")
_PERSIAN = frozenset("پچژگکی")


def arabic_language(text: str) -> str:
    """Which language of the Arabic script a text is in, by the letters only one of them
    uses: 'ps' (ټ ډ ښ ې …), 'ur' (ٹ ڈ ں ے ہ …), 'fa' (پ چ ژ گ ک ی) or 'ar'."""
    letters = [c for c in text if "\u0620" <= c <= "\u06ff"]
    if not letters:
        return "ar"
    pashto = sum(c in _PASHTO for c in letters)
    urdu = sum(c in _URDU for c in letters)
    if pashto >= max(1, 0.003 * len(letters)) and pashto >= urdu / 2:
        return "ps"
    if urdu >= max(1, 0.003 * len(letters)):
        return "ur"
    if sum(c in _PERSIAN for c in letters) >= max(1, 0.003 * len(letters)):
        return "fa"
    return "ar"


# Russian and Ukrainian case endings of nouns and adjectives, folded (ё -> е). A
# word is stemmed by the longest of them that leaves MIN_STEM letters; names and words
# meet when their stems do: Махачкала, Махачкале, Махачкалой -> махачкал.
_ENDINGS = frozenset(
    script_fold(e)
    for e in (
        # Russian nouns: Москва, Москвы, Москве, Москву, Москвой; Россия, России, Россией
        "а", "я", "ы", "и", "е", "у", "ю", "о", "ь", "й", "ой", "ей", "ом", "ем", "ам", "ям",
        "ах", "ях", "ами", "ями", "ию", "ия", "ии", "ией", "ью",
        # Russian adjectives: Пермский, Пермском, Волгоградская, Волгоградской, Грозный
        "ый", "ий", "ая", "яя", "ое", "ее", "ые", "ие", "ого", "его", "ому", "ему", "ым", "им",
        "ых", "их", "ую", "юю", "ыми", "ими",
        # Ukrainian: Україна, Україні, України; Харківська, Харківській, Харківської (not
        # -ові: "Харкові" is Харков- + і, see oblique_stems)
        "і", "ї", "є", "ою", "ею", "ії", "ією", "ій", "ої", "ім", "іх", "іми",
    )
)  # fmt: skip
MIN_STEM = 3


_BY_LENGTH = [
    (n, frozenset(e for e in _ENDINGS if len(e) == n)) for n in (3, 2, 1)
]  # longest first


def stem(word: str) -> str:
    """A folded Cyrillic word without its case ending: 'дагестане' -> 'дагестан'."""
    for n, endings in _BY_LENGTH:
        if len(word) - n >= MIN_STEM and word[-n:] in endings:
            return word[:-n]
    return word


# Stems are compared without what tells Ukrainian from Russian spelling: Волгоградська and
# Волгоградская, Харкова and Харькова meet.
_SKELETON = str.maketrans({"ь": "", "ъ": "", "'": "", "і": "и", "ї": "и", "ы": "и", "є": "е",
                           "э": "е", "ґ": "г"})  # fmt: skip


def has_ending(key: str) -> bool:
    """Whether the last word of a folded Cyrillic name has a case ending to strip."""
    last = key.rpartition(" ")[2]
    return stem(last) != last


def stem_key(key: str) -> str:
    """A folded Cyrillic name, every word stemmed: 'северном кавказе' -> 'северн кавказ'."""
    return " ".join(stem(word) for word in key.split()).translate(_SKELETON)


def oblique_stems(key: str) -> list[str]:
    """Ukrainian names whose last vowel changes when inflected: Харків -> Харкова (харков),
    Львів -> Львові (львов), Київ -> Києва (києв); those forms without their ending."""
    head, _, last = key.rpartition(" ")
    prefix = f"{head} " if head else ""
    if re.search(r"[^аеиіоуяюєї]ів$", last):
        return [f"{prefix}{last[:-2]}ов"]
    if last.endswith("їв"):
        return [f"{prefix}{last[:-2]}єв"]
    return []


# Endings only adjectives have: "Слуцкий" (a surname) is not Слуцк, though "Грозный" is
# Грозный and "Пермском крае" Пермский край.
ADJECTIVE_ENDINGS = frozenset(
    {"ый", "ий", "ій", "ая", "яя", "ое", "ее", "ые", "ие", "ого", "его", "ому", "ему", "ым", "им",
     "ых", "их", "ую", "юю", "ыми", "ими", "ої", "іх", "ім", "іми"}
)  # fmt: skip


def adjectival(key: str) -> bool:
    """Whether the last word of a folded Cyrillic name ends like an adjective only."""
    last = key.rpartition(" ")[2]
    stemmed = stem(last)
    return stemmed != last and last[len(stemmed) :] in ADJECTIVE_ENDINGS
