"""Judged articles as examples of a watch: the hook the matcher consults.

Every active judgement of a watch is an example: the judged article's lead vector (the same
encoder vector the matcher compares) and whether the team found it relevant. After the
matcher has decided an article, its nearest judged neighbour of that watch may overturn the
decision (`adjust`):

- a match whose lead is at least ``FEEDBACK_NOT_RELEVANT_SIMILARITY`` close to an article
  judged not relevant, and closer to it (by ``FEEDBACK_NEIGHBOUR_MARGIN``) than to any judged
  relevant, is dropped: "a team that marks ten false alarms should not get the eleventh";
- a miss at least ``FEEDBACK_RELEVANT_SIMILARITY`` close to an article judged relevant (and
  closer to it than to any judged not relevant) matches, provided the watch's region gate
  passed and it is no opinion piece: another copy of a missed report is not missed again.

This holds whatever decided the watch (similarity or a learned detector). Then, for a watch
decided by a learned detector, the judgements generalise beyond copies of the English text
(defaults.FEEDBACK_*): by default a weak match near a judged false alarm in the detectors'
multilingual reading is dropped (feedback/near.py), so the same kind of report from another
outlet, in another language, no longer fires. As settings, before that: the watch's own
threshold from its judged articles' detector margins (feedback/threshold.py), the judged
articles' vote on the detector's margin (feedback/correction.py) and the watch's own refitted
copy of the detectors' head (feedback/refit.py, ``"refit"``). It is one small step after the
decision, in one place. An empty set changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from wirewatch import defaults
from wirewatch.feedback.correction import (
    Correction,
    Vote,
    fit_correction,
    logit,
    representation,
)
from wirewatch.feedback.near import NearJudged
from wirewatch.feedback.refit import WatchHead, watch_head
from wirewatch.feedback.threshold import WatchThreshold
from wirewatch.models import ArticleEncoding, WatchMatch

OPINION = "opinion piece"


@dataclass(frozen=True)
class Example:
    article_id: str
    relevant: bool
    judgement_id: int
    vector: np.ndarray  # the article's lead vector, L2-normalised
    features: np.ndarray | None = None  # the detectors' input (None: not read by them)
    kinds: np.ndarray | None = None  # ... and their head's reading, P(each of its classes)
    margin: float | None = None  # logit(p) - logit(threshold) of the watch's detector


@dataclass(frozen=True)
class WatchExamples:
    """One watch's examples as one matrix, for one product per article."""

    vectors: np.ndarray  # (n, dim)
    relevant: np.ndarray  # (n,) bool
    examples: tuple[Example, ...]
    correction: Correction | Vote | None = None  # of its detector (None: not decided by one)
    refit: WatchHead | None = None  # its own copy of the detectors' head (feedback/refit.py)
    threshold: WatchThreshold | None = None  # its own threshold (feedback/threshold.py)
    near: NearJudged | None = None  # its judged articles as neighbours (feedback/near.py)

    @classmethod
    def of(
        cls,
        examples: Sequence[Example],
        correction: Mapping[str, Any] | None,
        detectors: Any = None,
        event: str | None = None,
    ) -> WatchExamples:
        vectors = np.stack([e.vector for e in examples]).astype(np.float32)
        relevant = np.array([e.relevant for e in examples], dtype=bool)
        if correction is None:
            return cls(vectors, relevant, tuple(examples))
        options = dict(correction)
        near = near_of(examples, detectors, event, options.pop("near", "default"))
        adapted = cls._adapted(examples, options, detectors, event)
        return cls(vectors, relevant, tuple(examples), *adapted, near=near)

    @staticmethod
    def _adapted(
        examples: Sequence[Example], options: dict[str, Any], detectors: Any, event: str | None
    ) -> tuple[Correction | Vote | None, WatchHead | None, WatchThreshold | None]:
        """The detector's correction, refitted head and own threshold the options ask for."""
        threshold = threshold_of(examples, detectors, event, options.pop("threshold", "default"))
        if options.get("kind") == "threshold":  # its own threshold alone, no correction
            return None, None, threshold
        if options.get("kind", defaults.FEEDBACK_CORRECTION) == "refit":
            options.pop("kind", None)
            vote = options.pop("vote", {} if defaults.FEEDBACK_REFIT_VOTE else None)
            refit = refit_of(examples, detectors, event, **options)
            if refit is not None or event is None:
                then = vote is not None and refit is not None  # the vote after the refit
                voted = correction_of(examples, kind="vote", **vote) if then else None
                return voted, refit, threshold
            options = {"kind": "vote"}  # no training items: the vote instead
        if options.get("kind", defaults.FEEDBACK_CORRECTION) == "none":  # no margin correction
            return None, None, threshold
        return correction_of(examples, **options), None, threshold

    def key(self) -> tuple[tuple[int, bool], ...]:
        """What a refit depends on: the judgements and their verdicts."""
        return tuple((e.judgement_id, e.relevant) for e in self.examples)

    def nearest(self, vector: np.ndarray, relevant: bool) -> tuple[float, Example | None]:
        """The closest example with that label, and its cosine (-1 when there is none)."""
        mask = self.relevant == relevant
        if not mask.any():
            return -1.0, None
        sims = self.vectors[mask] @ vector
        best = int(np.argmax(sims))
        chosen = [e for e, keep in zip(self.examples, mask, strict=True) if keep][best]
        return float(sims[best]), chosen


def detector_margin(watch: Any, events: Mapping[str, float] | None, detectors: Any) -> float | None:
    """``logit(p) - logit(threshold)`` of the detector that decides ``watch`` on an article the
    detectors read as ``events``; None for a watch decided by similarity."""
    event = getattr(watch, "event", None)
    if event is None or events is None or detectors is None:
        return None
    return float(logit(events[event]) - logit(detectors.threshold(event)))


def correction_of(
    examples: Sequence[Example],
    kind: str = defaults.FEEDBACK_CORRECTION,
    space: str = defaults.FEEDBACK_CORRECTION_SPACE,
    promotes: bool = defaults.FEEDBACK_CORRECTION_PROMOTES,
    **options: float,
) -> Correction | Vote | None:
    """The detector correction fitted to the examples read by the detectors, if any;
    ``options``: the chosen kind's parameters (feedback/correction.py)."""
    read = [e for e in examples if e.features is not None and e.margin is not None]
    if not read:
        return None
    features = [representation(space, e.features, e.kinds) for e in read]
    relevant = [e.relevant for e in read]
    if kind == "vote":
        return Vote.of(features, relevant, space=space, promotes=promotes, **options)
    margins = [e.margin for e in read]
    return replace(
        fit_correction(features, margins, relevant, **options),  # type: ignore[arg-type]
        space=space,
        promotes=promotes,
    )


def refit_of(
    examples: Sequence[Example], detectors: Any, event: str | None, **options: Any
) -> WatchHead | None:
    """The watch's refitted head (feedback/refit.py) from the examples the detectors read."""
    read = [e for e in examples if e.features is not None]
    if detectors is None or event is None or not read:
        return None
    features = [e.features for e in read]
    return watch_head(detectors, event, features, [e.relevant for e in read], **options)


def threshold_of(
    examples: Sequence[Example], detectors: Any, event: str | None, options: Any
) -> WatchThreshold | None:
    """The watch's own threshold from its judged margins; ``options``: ``{"prior": …,
    "promotes": …}``, None (off) or "default" (``defaults.FEEDBACK_THRESHOLD_*``)."""
    if options == "default":
        prior = defaults.FEEDBACK_THRESHOLD_PRIOR
        options = None if prior is None else {"prior": prior}
    read = [e for e in examples if e.margin is not None]
    if options is None or detectors is None or event is None or not read:
        return None
    margins, relevant = [e.margin for e in read], [e.relevant for e in read]
    return WatchThreshold.of(margins, relevant, detectors.threshold(event), **options)


def near_of(
    examples: Sequence[Example], detectors: Any, event: str | None, options: Any
) -> NearJudged | None:
    """The watch's judged articles as neighbours in the detectors' reading (feedback/near.py);
    ``options``: its parameters, None (off) or "default" (``defaults.FEEDBACK_NEAR_*``)."""
    if options == "default":
        options = {} if defaults.FEEDBACK_NEAR else None
    if options is None or detectors is None or event is None:
        return None
    head = getattr(detectors, "head", None)  # its lead feature: the columns the head reads
    width = head.weights.shape[1] if head is not None else None
    return NearJudged.of(examples, width, threshold=detectors.threshold(event), **options)


DEFAULT_CORRECTION = {"kind": defaults.FEEDBACK_CORRECTION}


class FeedbackExamples:
    """Every watch's judged examples; immutable once built (swapped whole on a change)."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[Example]] | None = None,
        *,
        relevant_similarity: float = defaults.FEEDBACK_RELEVANT_SIMILARITY,
        not_relevant_similarity: float = defaults.FEEDBACK_NOT_RELEVANT_SIMILARITY,
        margin: float = defaults.FEEDBACK_NEIGHBOUR_MARGIN,
        correction: Mapping[str, Any] | None = DEFAULT_CORRECTION,
        detectors: Any = None,
        events: Mapping[str, str | None] | None = None,
        previous: FeedbackExamples | None = None,
    ) -> None:
        """``detectors`` and ``events`` (watch -> the event type of its detector) let a detector
        watch refit its own head; a watch whose judgements are those of ``previous`` (the set
        this one replaces) keeps its refitted head instead of fitting it again."""
        self.similarity = {True: relevant_similarity, False: not_relevant_similarity}
        self.margin = margin
        self.detectors = detectors
        self.by_watch: dict[str, WatchExamples] = {}
        for watch, judged in (examples or {}).items():
            if not judged:
                continue
            event = (events or {}).get(watch)
            kept = previous.by_watch.get(watch) if previous is not None else None
            if (
                kept is not None
                and kept.refit is not None
                and kept.refit.event == event
                and previous is not None
                and previous.detectors is detectors
                and kept.key() == tuple((e.judgement_id, e.relevant) for e in judged)
            ):
                self.by_watch[watch] = kept
            else:
                self.by_watch[watch] = WatchExamples.of(list(judged), correction, detectors, event)

    def __len__(self) -> int:
        return sum(len(w.examples) for w in self.by_watch.values())

    def adjust(self, watch: Any, encoding: ArticleEncoding, match: WatchMatch) -> WatchMatch:
        """The matcher's decision, overturned when a judged neighbour says otherwise."""
        examples = self.by_watch.get(match.watch)
        if examples is None:
            return match
        adjusted = match  # no neighbour without the lead's vector (the English model read none)
        if len(encoding.vectors):
            adjusted = self._like_neighbour(watch, encoding, match, examples)
        if adjusted is not match:
            return adjusted
        if examples.refit is not None:
            adjusted = refitted(watch, encoding, match, examples.refit)
        if examples.threshold is not None:
            adjusted = thresholded(watch, encoding, adjusted, examples.threshold)
        if examples.correction is not None:
            adjusted = corrected(watch, encoding, adjusted, examples.correction)
        if examples.near is not None:
            adjusted = nearby(watch, encoding, adjusted, examples.near)
        return adjusted

    def _like_neighbour(
        self, watch: Any, encoding: ArticleEncoding, match: WatchMatch, examples: WatchExamples
    ) -> WatchMatch:
        """The decision of a judged near copy (see the module's docstring), else ``match``."""
        vector = np.asarray(encoding.vectors[0], dtype=np.float32)
        wanted, neighbour = examples.nearest(vector, relevant=not match.matched)
        unwanted, _ = examples.nearest(vector, relevant=match.matched)
        needed = self.similarity[not match.matched]
        if neighbour is None or wanted < needed or wanted < unwanted + self.margin:
            return match
        if match.matched:
            return replace(
                match,
                matched=False,
                reason=f"feedback: like {neighbour.article_id}, judged not relevant "
                f"(#{neighbour.judgement_id}, similarity {wanted:.2f}); was: {match.reason}",
            )
        if match.excluded_by == OPINION or (getattr(watch, "regions", None) and not match.regions):
            return match
        return replace(
            match,
            matched=True,
            excluded_by=None,
            reason=f"feedback: like {neighbour.article_id}, judged relevant "
            f"(#{neighbour.judgement_id}, similarity {wanted:.2f}); was: {match.reason}",
        )


def corrected(
    watch: Any, encoding: ArticleEncoding, match: WatchMatch, correction: Correction | Vote
) -> WatchMatch:
    """A detector watch's decision with its judgements' correction of the margin."""
    event = getattr(watch, "event", None)
    if (
        event is None
        or encoding.events is None
        or encoding.event_features is None
        or encoding.event_kinds is None
        or encoding.opinion
        or match.excluded_by is not None
    ):
        return match  # not decided by its detector, or excluded whatever it reads
    margin = float(logit(match.score) - logit(match.threshold))
    read = representation(correction.space, encoding.event_features, encoding.event_kinds)
    now = margin + correction.shift(read)
    if (now >= 0) == match.matched or (not match.matched and not correction.promotes):
        return match
    if not match.matched and (
        getattr(watch, "specific", False) or (getattr(watch, "regions", None) and not match.regions)
    ):
        return match  # the detector alone never decides a specific watch, nor the region
    verdict = "relevant" if now >= 0 else "not relevant"
    return replace(
        match,
        matched=now >= 0,
        reason=f"feedback: {correction.judged} judgements make it read {verdict} "
        f"(detector margin {margin:+.2f} corrected to {now:+.2f}); was: {match.reason}",
    )


def detector_event(watch: Any, encoding: ArticleEncoding, match: WatchMatch) -> str | None:
    """The event type whose detector read this article for a bound watch, where no gate (an
    opinion piece, an exclude phrase) decided it; None otherwise."""
    event = getattr(watch, "event", None)
    if (
        event is None
        or encoding.events is None
        or encoding.event_features is None
        or encoding.opinion
        or match.excluded_by is not None
    ):
        return None
    return event


def refitted(
    watch: Any, encoding: ArticleEncoding, match: WatchMatch, refit: WatchHead
) -> WatchMatch:
    """A detector watch's decision by its own refitted head, where the shipped head's reading
    of the lead decided it (not a sentence's reading, a similarity to examples, or a gate)."""
    event = detector_event(watch, encoding, match)
    if event is None:
        return match
    fired = encoding.events[event] >= refit.threshold
    if fired != match.matched:
        return match  # something else decided it
    probability = refit.probability(encoding.event_features)
    fires = probability >= refit.threshold
    if keeps_decision(watch, match, fires, refit.promotes):
        return match
    sign = "≥" if fires else "<"
    return replace(
        match,
        matched=fires,
        score=round(probability, 4),
        reason=f"feedback: {event} detector refitted with {refit.judged} judgements reads "
        f"{probability:.2f} {sign} {refit.threshold:.2f}; was: {match.reason}",
    )


def keeps_decision(watch: Any, match: WatchMatch, fires: bool, promotes: bool) -> bool:
    """Whether an adapted detector that ``fires`` (or not) leaves ``match`` as it is: it agrees,
    or it would turn a miss into a match where it may not (``promotes`` off; a specific watch
    or the region gate: the detector alone never decides those)."""
    if fires == match.matched:
        return True
    outside = bool(getattr(watch, "regions", None)) and not match.regions
    return fires and (not promotes or bool(getattr(watch, "specific", False)) or outside)


def thresholded(
    watch: Any, encoding: ArticleEncoding, match: WatchMatch, threshold: WatchThreshold
) -> WatchMatch:
    """A detector watch's decision at its own threshold, where the shipped head's reading of
    the lead decided it (as in ``refitted``) and no earlier step of feedback changed it."""
    event = getattr(watch, "event", None)
    if (
        event is None
        or encoding.events is None
        or encoding.opinion
        or match.excluded_by is not None
        or match.reason.startswith("feedback:")
    ):
        return match
    probability = float(encoding.events[event])
    if (probability >= threshold.threshold) != match.matched:
        return match  # something else decided it
    margin = float(logit(probability) - logit(threshold.threshold))
    fires = threshold.fires(margin)
    if keeps_decision(watch, match, fires, threshold.promotes):
        return match
    sign = "≥" if fires else "<"
    return replace(
        match,
        matched=fires,
        reason=f"feedback: {threshold.judged} judgements set this watch's {event} threshold "
        f"to margin {threshold.shift:+.2f}; it reads {margin:+.2f} {sign} {threshold.shift:+.2f}; "
        f"was: {match.reason}",
    )


def nearby(
    watch: Any, encoding: ArticleEncoding, match: WatchMatch, near: NearJudged
) -> WatchMatch:
    """A detector watch's decision overturned by a judged article near it in the detectors'
    reading, where the detector was not sure (feedback/near.py) and no gate decided it."""
    event = detector_event(watch, encoding, match)
    if event is None or (not match.matched and match.reason.startswith("feedback:")):
        return match
    margin = float(logit(encoding.events[event]) - logit(near.threshold))
    neighbour = near.overturns(encoding.event_features, margin, match.matched)
    if neighbour is None or keeps_decision(watch, match, not match.matched, True):
        return match
    verdict = "not relevant" if match.matched else "relevant"
    return replace(
        match,
        matched=not match.matched,
        reason=f"feedback: like {neighbour.article_id}, judged {verdict} "
        f"(#{neighbour.judgement_id}, detectors' reading {neighbour.similarity:.2f} alike; "
        f"detector margin {margin:+.2f}); was: {match.reason}",
    )
