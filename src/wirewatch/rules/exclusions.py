"""When the lead is about one of a watch's exclude phrases rather than about the watch
(docs/matching.md, "Exclusions")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wirewatch.models import ArticleEncoding
from wirewatch.rules.prepared import PreparedWatch
from wirewatch.rules.settings import SHIPPED, Rules


@dataclass(frozen=True)
class Exclusion:
    """Why the lead is about an exclude phrase rather than about the watch."""

    phrase: str
    similarity: float  # of the lead passage to the phrase
    watch_similarity: float  # of the same passage to the watch
    words: frozenset[str] = frozenset()  # the phrase's distinguishing stems in the headline
    in_opening: bool = False  # ... and in the first sentence

    def describe(self) -> str:
        closer = f"{self.similarity:.2f} vs {self.watch_similarity:.2f} for the watch"
        if self.words:
            words = ", ".join(sorted(self.words))
            where = "headline and first sentence say" if self.in_opening else "headline says"
            return f"{where} {words!r} like {self.phrase!r} ({closer})"
        return f"closer to {self.phrase!r} ({closer})"


def lead_exclusion(
    watch: PreparedWatch,
    encoding: ArticleEncoding,
    passage_scores: np.ndarray,
    excluded: np.ndarray,
    rules: Rules = SHIPPED,
) -> Exclusion | None:
    """The lead (or headline) is about an exclude phrase rather than the watch when

    - the phrase is nearly as close (within ``EXCLUDE_WORD_MARGIN``) and the headline
      uses a word of the phrase that the watch's references do not ("lifted"), in a
      clause about the watch's subject (see ``topical_stems``), or
    - the headline and the text's first sentence both use such words and the phrase is
      not far off (within ``EXCLUDE_OPENING_MARGIN``): "Manipur lifts mobile internet
      ban" and "The government has lifted the ban on mobile internet" say it twice, in
      words the model weighs less than "internet" and "ban", or
    - the watch sets ``exclude_threshold`` and the phrase reaches it.

    ``passage_scores`` are the passages' similarities to the watch, ``excluded`` theirs to
    each exclude phrase (a margin of None in ``rules`` turns its rule off).
    """
    assert watch.excludes is not None
    clauses = encoding.headline_clauses
    if rules.headline_clauses:
        headline = topical_stems(clauses, watch.reference_stems)
    else:
        headline = frozenset().union(*clauses)
    in_headline = [words & headline for words in watch.exclude_words]
    in_opening = [words & encoding.opening_stems for words in watch.exclude_words]
    word_margin, opening_margin = rules.exclude_word_margin, rules.exclude_opening_margin
    for index in range(encoding.leads):
        mine = float(passage_scores[index])
        for j, phrase in enumerate(watch.excludes.texts):
            theirs = float(excluded[index, j])
            words, opening = in_headline[j], in_opening[j]
            if watch.exclude_threshold is not None and theirs >= watch.exclude_threshold:
                return Exclusion(phrase, theirs, mine)
            if word_margin is not None and words and theirs > mine - word_margin:
                return Exclusion(phrase, theirs, mine, words)
            if opening_margin is not None and words and opening and theirs > mine - opening_margin:
                return Exclusion(phrase, theirs, mine, words | opening, in_opening=True)
    return None


def topical_stems(
    clauses: Sequence[frozenset[str]], reference_stems: frozenset[str]
) -> frozenset[str]:
    """The headline words that speak of the watch's subject: those of the clauses sharing a
    word with the watch's references, or of the whole headline when no clause does.

    In "Mobile internet stays off for fifth day; restoration promised for Thursday" the
    restoration is promised, not reported; in "BYC calls off sit-in; internet restored" it is.
    """
    topical = [c for c in clauses if c & reference_stems] or list(clauses)
    return frozenset().union(*topical)
