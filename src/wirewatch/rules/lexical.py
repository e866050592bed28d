"""Word-level evidence next to the embeddings: stems and stop words.

Sentence embeddings of a small model barely tell "the internet ban was imposed" from "the
internet ban was lifted". The words do: an exclude phrase's *distinguishing words*
(rules/similarity.py) found in a headline are evidence for the exclusion (see
``Matcher._lead_exclusion``). Everything is derived from the watch's own text.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import snowballstemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_CLAUSE_BREAK = re.compile(r"[;:|]|\s[-–—]\s")  # "Internet stays off; restoration promised"
_STEMMER = snowballstemmer.stemmer("english")
MIN_WORD_LENGTH = 3


def is_stop_word(word: str) -> bool:
    return word.lower() in ENGLISH_STOP_WORDS


@cache
def _common_words() -> frozenset[str]:
    import justext  # trafilatura's own dependency; its stoplists are word-frequency lists

    return frozenset(justext.get_stoplist("English"))


def is_common_word(word: str) -> bool:
    """One of the ~450 most frequent English words ("new", "said", "company", "power"): too
    common to tell an exclude phrase's near miss apart from the watched event."""
    return word.lower() in _common_words()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word.lower().strip("'’-"))


def content_stems(text: str) -> frozenset[str]:
    """Stems of the words that carry meaning: no stop words, no words under three letters."""
    words = (w.strip("'’-") for w in _WORD.findall(text))
    return frozenset(stem(w) for w in words if len(w) >= MIN_WORD_LENGTH and not is_stop_word(w))


def stems_of_all(texts: list[str]) -> frozenset[str]:
    return frozenset().union(*(content_stems(t) for t in texts))


def clause_stems(headline: str) -> tuple[frozenset[str], ...]:
    """Content stems of each clause of a headline, as punctuation divides it."""
    return tuple(stems for part in _CLAUSE_BREAK.split(headline) if (stems := content_stems(part)))
