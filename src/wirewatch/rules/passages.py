"""Split an article into the passages that are encoded and scored.

Passage 0 is the lead: the title plus the first ``LEAD_PARAGRAPHS`` paragraphs, cut to
``LEAD_MAX_WORDS`` words, where news writing says what happened and where. Passage 1 is the
headline alone (when there is one and it is not the whole lead). Then come the sentences of
the text, one passage each (a sentence longer than ``SENTENCE_MAX_WORDS`` is cut into
pieces), up to ``MAX_PASSAGES`` passages in all. A fact stated once, in one sentence deep in
the text ("mobile internet was suspended in several districts"), is then scored on its own
instead of being averaged away inside a long window.
"""

from __future__ import annotations

import re

from wirewatch import defaults

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")


def split_passages(
    title: str,
    text: str,
    *,
    lead_paragraphs: int = defaults.LEAD_PARAGRAPHS,
    lead_words: int = defaults.LEAD_MAX_WORDS,
    sentence_words: int = defaults.SENTENCE_MAX_WORDS,
    max_passages: int = defaults.MAX_PASSAGES,
) -> list[str]:
    """The lead, the headline, then the text's sentences; never empty."""
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    lead = " ".join([title.strip(), *paragraphs[:lead_paragraphs]]).split()
    passages = [" ".join(lead[:lead_words])]
    headline = " ".join(title.split()[:lead_words])
    if headline and headline != passages[0] and max_passages > 1:
        passages.append(headline)
    for paragraph in paragraphs:
        for sentence in sentences(paragraph, sentence_words):
            if len(passages) >= max_passages:
                return passages
            passages.append(sentence)
    return passages


def lead_count(title: str, passages: list[str], lead_words: int = defaults.LEAD_MAX_WORDS) -> int:
    """How many passages make up the lead: 2 when passage 1 is the headline, else 1."""
    headline = " ".join(title.split()[:lead_words])
    return 2 if headline and passages[1:2] == [headline] and passages[0] != headline else 1


def sentences(paragraph: str, limit: int) -> list[str]:
    """The paragraph's sentences; one longer than ``limit`` words is cut into pieces."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        words = sentence.split()
        out += [" ".join(words[i : i + limit]) for i in range(0, len(words), limit)]
    return out
