"""Places an article names in the Arabic, Cyrillic, Devanagari or Bengali script.

Without capitals (Arabic, Devanagari, Bengali) any word may start a name: the longest run of
words (at most five, on one line, only spaces or hyphens between them) whose folded form
(``scripts.script_fold``) is a known name wins. A Cyrillic name starts with a capital, and
is also found inflected (``scripts.stem_key``: в Махачкале, у Харкові). An Arabic name is
also found behind a clitic (و ف ب ل ك: "بالعراق", "والموصل"), a Bengali one before a case
ending (ঢাকায়, ঢাকার).

Precise rather than greedy, as on the Latin path (docs/matching.md, "Gazetteer"):
- a frequent word of these languages (jusText's stoplists, CLDR's names of weekdays and
  months) is a country, a province or a world city, never a smaller town nor the province
  named like it: "اور" (and), "دوشنبه" (Monday, and Dushanbe);
- a frequent word that is also the name of a country or a province (``data/script_words.txt``:
  "شام", evening and Syria; "مالی", financial and Mali) is only that where the article names
  its country otherwise, and never a town;
- a name the press of a language gives a division or a smaller town of another country
  (GeoNames lists Urdu names of German towns: "امن", peace, is Emmen) counts only where the
  article names that country; world cities (1,000,000 people: "پیرس") count anyway. Which
  countries are a language's own: ``scripts.NATIVE``; which language of the Arabic script an
  article is in: ``scripts.arabic_language``;
- Cyrillic: a word the article also writes in lower case, or at a sentence start when it is a
  frequent word, is no town; a name next to another capitalised word is a person's
  ("Владимир Путин": not Vladimir, town or oblast) unless it is a country's; a bare word
  matches no inflected name ("Медведев" is not Medvedevo).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from wirewatch import defaults
from wirewatch.rules.places.scripts import (
    NATIVE,
    SCRIPTS,
    WORD,
    adjectival,
    arabic_language,
    has_ending,
    script_fold,
    script_of,
    stem_key,
)

if TYPE_CHECKING:
    from wirewatch.rules.places.index import Entry
    from wirewatch.rules.places.script_names import ScriptNames

_MAX_NAME_WORDS = 5
_BETWEEN_WORDS = re.compile(r"[ \t\u00a0-]*")  # what may separate the words of one name
_ARABIC_CLITICS = "وفبلک"  # folded: and, so, in/with, to/for, like
_BENGALI_ENDINGS = ("ের", "তে", "কে", "য", "র", "ে")  # folded: ঢাকায় (য় -> য), ঢাকার
_SENTENCE_END = '.!?:;"“«(—–-\n'
_AREAS = ("country", "admin1")
_WORLD_CITY = defaults.GAZETTEER_COMMON_WORD_MIN_POPULATION  # "پیرس": Paris, whatever the article
_ANY_LETTER = re.compile("[\u0400-\u052f\u0600-\u09ff\ufb50-\ufeff]")  # of SCRIPTS


class ScriptMention(NamedTuple):
    written: str
    start: int  # character offset in the text
    candidates: list[Entry]
    unsure: frozenset[Entry]  # entries taken only where the article names their country


class _Words(NamedTuple):
    """The words of these scripts in a text, folded, and what the article writes in lower case."""

    matches: list[re.Match[str]]
    folded: list[str]
    lowered: set[str]  # Cyrillic words written in lower case, and their stems
    arabic: str  # the language of its Arabic script: "ar", "fa", "ps" or "ur"


def find(names: ScriptNames, text: str) -> list[ScriptMention]:
    """Places named in these scripts, in the order of the text (see the module docstring)."""
    if not _ANY_LETTER.search(text):  # a French or Turkish text: nothing to look at
        return []
    matches = [m for m in WORD.finditer(text) if script_of(m.group()) in SCRIPTS]
    if not matches:
        return []
    folded = [script_fold(m.group()) for m in matches]
    lowered = {key for m, key in zip(matches, folded, strict=True) if m.group()[:1].islower()}
    lowered |= {stem_key(key) for key in lowered}
    arabic = arabic_language(text) if any(script_of(k) == "arabic" for k in folded) else "ar"
    words = _Words(matches, folded, lowered, arabic)
    found: list[ScriptMention] = []
    i = 0
    while i < len(matches):
        mention, n = _longest(names, text, words, i)
        if mention is not None:
            found.append(mention)
        i += n
    return found


def _longest(
    names: ScriptNames, text: str, words: _Words, i: int
) -> tuple[ScriptMention | None, int]:
    """The longest name starting at word i, and how many words it takes (1 when none)."""
    first, folded = words.matches[i].group(), words.folded
    script = script_of(first)
    native = NATIVE[words.arabic if script == "arabic" else script]
    cased = first[:1].lower() != first[:1].upper()
    if cased and not first[:1].isupper():
        return None, 1
    if cased and first.isupper() and len(first) <= 3 and folded[i] not in names.names:
        return None, 1  # an acronym, unless a name ("США")
    for n in range(_run(text, words.matches, i), 0, -1):
        rest = folded[i + 1 : i + n]
        for head, exact in _heads(folded[i], script):
            key = " ".join((head, *rest))
            candidates = list(names.names.get(key, ()))
            if not candidates and cased and len(key) > 4:
                candidates = _inflected(names, key)
            if not exact:  # behind a clitic or before a case ending: no smaller foreign place
                candidates = [e for e in candidates if e.country in native or e.kind in _AREAS]
            if candidates:
                return _mention(names, text, words, i, n, key, candidates, native), n
    return None, 1


def _mention(
    names: ScriptNames,
    text: str,
    words: _Words,
    i: int,
    n: int,
    key: str,
    candidates: list[Entry],
    native: frozenset[str],
) -> ScriptMention | None:
    start, end = words.matches[i].start(), words.matches[i + n - 1].end()
    folded = words.folded[i]
    script = script_of(folded)
    cased = script == "cyrillic"
    one = n == 1
    if one and cased and (folded in words.lowered or stem_key(folded) in words.lowered):
        return None  # "Мир" where the article writes "мир"
    common = one and (folded in names.common or key in names.common)
    word = one and (folded in names.words or key in names.words)
    joined = one and cased and _joined(text, words, i, names)
    if joined:  # "Владимир Путин": neither the town nor the oblast
        candidates = [e for e in candidates if e.kind == "country"]
    elif common:  # "شام": Syria where the article names it, never a town
        candidates = [e for e in candidates if e.kind in _AREAS]
    elif word:  # "دوشنبه" (Monday, and Dushanbe): no smaller town, nor its province
        towns = {e.name for e in candidates if e.kind == "place"}
        candidates = [
            e for e in candidates
            if e.kind == "country" or (e.kind == "admin1" and e.name not in towns)
            or e.population >= _WORLD_CITY
        ]  # fmt: skip
    if word and cased and _sentence_start(text, start):
        candidates = [e for e in candidates if e.kind in _AREAS]
    if not candidates:
        return None
    unsure = frozenset(
        e
        for e in candidates
        if common or (e.kind != "country" and e.country not in native and not _world_city(e))
    )
    return ScriptMention(text[start:end], start, candidates, unsure)


def _inflected(names: ScriptNames, key: str) -> list[Entry]:
    """A Cyrillic name by its stem, when the text's word has a case ending of its own
    ("Махачкале" is Махачкала, "Медведев" is not Медведево) and an adjective's only where the
    name is one ("Грозном" is Грозный, "Слуцкий" is not Слуцк)."""
    stemmed = stem_key(key)
    if adjectival(key) and stemmed not in names.adjectives:
        return []
    if stemmed in names.names:
        return list(names.names[stemmed])
    if not has_ending(key):
        return []
    return list(names.stems.get(stemmed, ()))


def _heads(word: str, script: str) -> list[tuple[str, bool]]:
    """A name's first word as written, and the forms it may take without a clitic (Arabic) or
    a case ending (Bengali); True for the word as written."""
    forms = [(word, True)]
    if script == "arabic" and len(word) >= 5:
        if word[:2] == "لل":
            forms.append(("ال" + word[2:], False))  # للعراق -> العراق
        if word[0] in _ARABIC_CLITICS:
            forms.append((word[1:], False))  # بالعراق -> العراق, والموصل -> الموصل
            if len(word) >= 6 and word[0] in "وف" and word[1] in "بلک":
                forms.append((word[2:], False))  # وبغداد, فلبغداد
    elif script == "bengali":
        forms += [(word[: -len(e)], False) for e in _BENGALI_ENDINGS
                  if word.endswith(e) and len(word) - len(e) >= 3]  # fmt: skip
    return forms


def _run(text: str, matches: list[re.Match[str]], i: int) -> int:
    """How many words from i may form one name: at most five, on one line, nothing but spaces
    or hyphens between them."""
    n = 1
    while n < _MAX_NAME_WORDS and i + n < len(matches):
        between = text[matches[i + n - 1].end() : matches[i + n].start()]
        if not _BETWEEN_WORDS.fullmatch(between):
            break
        n += 1
    return n


def _joined(text: str, words: _Words, i: int, names: ScriptNames) -> bool:
    """Whether a one-word Cyrillic name stands next to another capitalised word, a space
    between them, that is no frequent word ("В Москве" is not): part of a person's name."""
    for j in (i - 1, i + 1):
        if not 0 <= j < len(words.matches):
            continue
        left, right = sorted((words.matches[j], words.matches[i]), key=lambda m: m.start())
        neighbour = words.matches[j].group()
        if text[left.end() : right.start()] != " " or not neighbour[:1].isupper():
            continue
        if neighbour.isupper() or words.folded[j] in names.words:
            continue
        return True
    return False


def _world_city(entry: Entry) -> bool:
    return entry.kind == "place" and entry.population >= _WORLD_CITY


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" ")
    return not before or before[-1] in _SENTENCE_END
