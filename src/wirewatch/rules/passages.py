"""Split an article into the passages that are encoded and scored.

Passage 0 is the lead: the title plus the first ``LEAD_PARAGRAPHS`` paragraphs, cut to
``LEAD_MAX_WORDS`` words. Passage 1 is the headline alone (when there is one and it is not
the whole lead): a headline says what the article is about in the fewest words, and inside
the lead it can be drowned by the paragraphs. The rest of the text follows in windows of about
``PASSAGE_WORDS`` words, aligned on sentence ends and overlapping by about
``PASSAGE_OVERLAP_WORDS`` words, up to ``MAX_PASSAGES`` passages in all.
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
    window_words: int = defaults.PASSAGE_WORDS,
    overlap_words: int = defaults.PASSAGE_OVERLAP_WORDS,
    max_passages: int = defaults.MAX_PASSAGES,
) -> list[str]:
    """The lead, the headline, then sentence-aligned windows over the rest; never empty."""
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    lead = " ".join([title.strip(), *paragraphs[:lead_paragraphs]]).split()
    rest = lead[lead_words:] + " ".join(paragraphs[lead_paragraphs:]).split()
    passages = [" ".join(lead[:lead_words])]
    headline = " ".join(title.split()[:lead_words])
    if headline and headline != passages[0] and max_passages > 1:
        passages.append(headline)
    if rest and max_passages > len(passages):
        sentences = _sentences(" ".join(rest), window_words)
        passages += _windows(sentences, window_words, overlap_words)[: max_passages - len(passages)]
    return passages


def lead_count(title: str, passages: list[str], lead_words: int = defaults.LEAD_MAX_WORDS) -> int:
    """How many passages make up the lead: 2 when passage 1 is the headline, else 1."""
    headline = " ".join(title.split()[:lead_words])
    return 2 if headline and passages[1:2] == [headline] and passages[0] != headline else 1


def _sentences(text: str, limit: int) -> list[list[str]]:
    """Sentences as word lists; a sentence longer than ``limit`` words is cut into pieces."""
    out: list[list[str]] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        out += [words[i : i + limit] for i in range(0, len(words), limit)]
    return out


def _windows(sentences: list[list[str]], limit: int, overlap: int) -> list[str]:
    """Greedy windows of whole sentences; each next window restarts a few sentences back."""
    windows: list[str] = []
    start = 0
    while start < len(sentences):
        end, size = start, 0
        while end < len(sentences) and size + len(sentences[end]) <= limit:
            size += len(sentences[end])
            end += 1
        windows.append(" ".join(w for s in sentences[start:end] for w in s))
        if end >= len(sentences):
            break
        back, carried = end, 0
        while back - 1 > start and carried + len(sentences[back - 1]) <= overlap:
            back -= 1
            carried += len(sentences[back])
        start = back
    return windows
