"""A detector watch's own decision threshold, chosen from its judgements.

Each judged article of a watch decided by a learned detector carries the detector's margin
when it was judged, ``logit(p) - logit(t)`` (its reading of the article against the shipped
threshold ``t``). The cut that decides the most judged articles as the team did (relevant
when the margin reaches it; ties go to the cut nearest the shipped one) is the watch's own
threshold, in margin units. It is shrunk toward the shipped threshold by how many judgements
there are:

    shift = cut · n / (n + prior)

so one or two judgements hardly move it and many move it to the cut. The watch then fires
when ``logit(p) - logit(t) >= shift``. By default it only raises the bar (``promotes``
False: an article the detector missed is not matched by a lowered threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wirewatch import defaults


@dataclass(frozen=True)
class WatchThreshold:
    """One watch's threshold, as a shift of its detector's margin (logit units)."""

    shift: float
    cut: float  # the cut that separates the judged articles best (before shrinking)
    judged: int
    threshold: float  # the detector's shipped threshold (probability)
    promotes: bool = defaults.FEEDBACK_THRESHOLD_PROMOTES

    @classmethod
    def of(
        cls,
        margins: Sequence[float],
        relevant: Sequence[bool],
        threshold: float,
        prior: float,
        promotes: bool = defaults.FEEDBACK_THRESHOLD_PROMOTES,
    ) -> WatchThreshold | None:
        """None without a judged margin."""
        if not len(margins):
            return None
        cut = separating_cut(margins, relevant)
        n = len(margins)
        shift = cut * n / (n + prior)
        if not promotes:
            shift = max(shift, 0.0)
        return cls(float(shift), float(cut), n, threshold, promotes)

    def fires(self, margin: float) -> bool:
        return margin >= self.shift


def separating_cut(
    margins: Sequence[float], relevant: Sequence[bool], gap: float = defaults.FEEDBACK_THRESHOLD_GAP
) -> float:
    """The margin cut with the fewest judged articles on the wrong side (relevant below it,
    not relevant at or above it); among equals the one nearest 0 (the shipped threshold).
    Candidates: 0, the midpoints between neighbouring margins, and ``gap`` beyond the ends."""
    m = np.asarray(margins, dtype=np.float64)
    wanted = np.asarray(relevant, dtype=bool)
    ordered = np.unique(m)
    cuts = np.concatenate(
        [[0.0, ordered[0] - gap, ordered[-1] + gap], (ordered[1:] + ordered[:-1]) / 2]
    )
    errors = np.array([((m < c) & wanted).sum() + ((m >= c) & ~wanted).sum() for c in cuts])
    best = np.flatnonzero(errors == errors.min())
    return float(cuts[best[np.argmin(np.abs(cuts[best]))]])
