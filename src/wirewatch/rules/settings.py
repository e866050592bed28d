"""The matcher's rules and fitted constants, each one a named switch.

The shipped matcher decides with ``Rules()``: every rule on, every constant at its default
(defaults.py). ``benchmarks/ablation.py`` decides the same encoded articles with one rule off
(or one constant at a neutral value) at a time, through ``Matcher(rules=...)``, and reports
what each one adds (docs/matching.md, "What each rule adds"). A rule that adds nothing on the
training part is retired (its switch goes with its code) unless a behaviour users see rests
on it; that table says which and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from wirewatch import defaults


@dataclass(frozen=True)
class Rules:
    """What the matcher applies; each field names one rule or constant."""

    # similarity path (rules/similarity.py, Matcher.score)
    lead_weight: float = defaults.LEAD_WEIGHT  # 0: the score is max(lead, best sentence)
    token_weight: float = defaults.TOKEN_WEIGHT  # 0: the sentence vectors' cosine alone
    # exclusions (rules/exclusions.py); a margin of None turns its rule off
    exclude_word_margin: float | None = defaults.EXCLUDE_WORD_MARGIN  # headline words
    exclude_opening_margin: float | None = defaults.EXCLUDE_OPENING_MARGIN  # ... said twice
    exclude_sentences: bool = True  # a sentence closer to a phrase is no evidence
    headline_clauses: bool = True  # only the headline's clauses about the subject count
    common_words: bool = True  # the most frequent English words never distinguish a phrase
    distinct_word_similarity: float = defaults.DISTINCT_WORD_SIMILARITY
    # opinion pieces (rules/genre.py)
    opinion_labels: bool = True  # "Editorial: ..." in the headline
    opinion_paths: bool = True  # /opinion/, /editorials/, /letters/ ... in the address
    # learned detectors (rules/verdict.py)
    second_event_sentence: bool = True  # a sentence past the lead read by the detectors
    second_event_after_other: bool = True  # ... its best one, when the lead reports another kind
    second_event_other_kind: bool = True  # ... and only then: never beside a lead of its own kind
    specific_floor: bool = True  # a specific watch's similarity must reach its threshold
    # region gate (rules/region_gate.py)
    region_gate: bool = True  # a watch with regions needs a place inside one
    lead_places: bool = True  # the lead's places in the main country decide
    body_says_where: bool = True  # ... and the body's, when the lead names only the country
    # what the English model reads (rules/reading.py)
    sentence_screen: float = defaults.SENTENCE_SCREEN_PROBABILITY
    latin_only: bool = True  # sentences past the lead only of Latin-script articles


SHIPPED = Rules()
