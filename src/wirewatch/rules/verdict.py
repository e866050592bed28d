"""The verdict of a bound watch's detector on one article (rules/events.py, docs/matching.md).

The detectors read the lead (the title and the sentences begun in its first 80 words). A
second event stated once, further down ("hours after the attacks mobile internet was
suspended"), is read too when the English model's similarity finds it: when the watch's
best passage is a sentence past the lead and the blended similarity reaches the watch's
threshold, the detectors read that sentence alone, and it fires the watch when it reaches
the detector's threshold. A second event is one of **another kind** than the lead reports
(``second_event_other_kind``): the lead must fire another family's detector and none of the
watch's own, so a single bombing whose background recalls coordinated assaults is no second,
coordinated attack (out of fold, the sentence path beside any lead made 11 false alarms and
3 right decisions: benchmarks/error_causes.py). Beside such a lead the watch's best sentence
past the lead is read even when the headline matches the watch better: a report led by a
mobile-internet suspension that states the assaults behind it in one sentence fires an
attacks watch too. A **specific** watch (its text far from its type's definition) also
needs its similarity score to reach its floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from wirewatch import defaults
from wirewatch.models import ArticleEncoding
from wirewatch.rules.settings import SHIPPED, Rules

if TYPE_CHECKING:
    from wirewatch.rules.events import EventDetectors
    from wirewatch.rules.prepared import PreparedWatch

SENTENCE_CACHE = 1000  # detector readings of single sentences kept
FAMILIES = ({"attack", "coordinated_attack"}, {"internet_shutdown"})  # kinds of event


@dataclass(frozen=True)
class Verdict:
    """A bound watch's detector on one article."""

    probability: float
    threshold: float
    fires: bool
    reason: str


class SentenceReadings:
    """The detectors' reading of one sentence read as title and lead (kept for a while)."""

    def __init__(self, detectors: EventDetectors) -> None:
        self.detectors = detectors
        self._read: dict[str, dict[str, float]] = {}

    def __call__(self, sentence: str) -> dict[str, float]:
        if sentence not in self._read:
            if len(self._read) > SENTENCE_CACHE:
                self._read.clear()
            self._read[sentence] = self.detectors.read([(sentence, [sentence])])[0]
        return self._read[sentence]


def trim(text: str, limit: int = defaults.EVIDENCE_MAX_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def best_sentence_after_another_event(
    watch: PreparedWatch,
    encoding: ArticleEncoding,
    passage_scores: np.ndarray | None,
    sentences: SentenceReadings,
) -> int:
    """The watch's best sentence past the lead when the lead reports an event of another kind
    (it fires another family's detector and none of the watch's own), so a report led by a
    shutdown can state its attacks in one sentence, and the other way round; else -1."""
    leads = encoding.leads
    if passage_scores is None or len(passage_scores) <= leads:
        return -1
    if not lead_reports_another_kind(watch, encoding, sentences.detectors):
        return -1
    return leads + int(np.argmax(passage_scores[leads:]))


def lead_reports_another_kind(
    watch: PreparedWatch, encoding: ArticleEncoding, detectors: EventDetectors
) -> bool:
    """Whether the detectors' reading of the lead fires another family's detector and none of
    the watch's own: what makes a sentence past the lead a *second* event."""
    if encoding.events is None or watch.event is None:
        return False
    fired = {t for t, p in encoding.events.items() if p >= detectors.threshold(t)}
    return another_kind(watch.event, fired)


def another_kind(event: str, fired: set[str]) -> bool:
    """Whether a lead that fires the detectors ``fired`` reports an event of another kind than
    ``event``: some of them, none of ``event``'s family."""
    own = next((f for f in FAMILIES if event in f), {event})
    return bool(fired) and not fired & own


def detector_verdict(
    watch: PreparedWatch,
    encoding: ArticleEncoding,
    similarity: float,
    best: int,
    sentences: SentenceReadings,
    floor: float | None = None,
    rules: Rules = SHIPPED,
    passage_scores: np.ndarray | None = None,
) -> Verdict | None:
    """The verdict of ``watch``'s detector; None for an unbound watch, an article the
    detectors did not read, or an opinion piece: the detectors learned that commentary
    reports no event, so a watch that wants opinion pieces (``include_opinion``) gets them by
    similarity. ``similarity`` and ``best`` are the watch's blended similarity score and its
    best passage (``passage_scores``: every passage's); ``floor`` the similarity a specific
    watch needs (default: its threshold)."""
    if watch.event is None or encoding.events is None or encoding.opinion:
        return None
    probability = encoding.events[watch.event]
    threshold = sentences.detectors.threshold(watch.event)
    sign = "≥" if probability >= threshold else "<"
    reason = f"detector {watch.event} {probability:.2f} {sign} {threshold:.2f}"
    fires = probability >= threshold
    if rules.second_event_sentence and best < encoding.leads and rules.second_event_after_other:
        best = best_sentence_after_another_event(watch, encoding, passage_scores, sentences)
    second = rules.second_event_sentence and best >= encoding.leads
    if second and rules.second_event_other_kind:  # a single attack is no second attack
        second = lead_reports_another_kind(watch, encoding, sentences.detectors)
    if not fires and second and similarity >= watch.threshold:
        sentence = encoding.passages[best]  # a second event stated in one sentence
        in_sentence = sentences(sentence)[watch.event]
        if in_sentence >= threshold:
            fires, probability = True, round(in_sentence, 4)
            reason = (
                f"detector {watch.event} {in_sentence:.2f} ≥ {threshold:.2f} on the sentence "
                f"{trim(sentence, 80)!r} (similarity {similarity:.2f})"
            )
    floor = watch.threshold if floor is None else floor
    if fires and rules.specific_floor and watch.specific and similarity < floor:
        fires = False
        reason += f", but similarity {similarity:.2f} < {floor:.2f} (a specific watch)"
    return Verdict(round(probability, 4), threshold, fires, reason)
