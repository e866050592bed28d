"""A per-watch correction of a learned detector, fitted to the team's judgements.

A watch decided by a detector (rules/events.py) fires when the detector's probability ``p``
of its event type reaches the detector's threshold ``t``: its margin is
``logit(p) - logit(t)``. The team's judgements of that watch teach it a small correction of
that margin, on what the detector itself reads:

    margin' = logit(p) - logit(t) + shift(article)

Two kinds of ``shift``, both on the article's detector input ``x`` (the e5 vector of title
and lead sentences), chosen by ``defaults.FEEDBACK_CORRECTION``:

- ``vote`` (the default): the judged articles vote, each by its closeness,
  ``shift = weight · Σ kᵢ sᵢ / (prior + Σ kᵢ)`` with ``kᵢ = exp((cos(x, xᵢ) - 1) / width)``
  and ``sᵢ`` +1 (relevant) or -1: an article like the judged ones (another big single attack
  for a coordinated-attacks watch) moves the way they were judged, an unlike one hardly;
  ``prior`` is the weight of the unchanged detector.
- ``logistic``: ``shift = w · (x - mean) + b``, the L2-regularised (``strength``) logistic
  fit of the judged articles' verdicts with the detector's margins as offsets (L-BFGS from
  zero).

Deterministic either way. Parameters: ``defaults.FEEDBACK_CORRECTION*``, chosen by
``python -m benchmarks.feedback_cv`` (docs/feedback.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from wirewatch import defaults

EPSILON = 1e-6


def representation(space: str, features: np.ndarray | None, kinds: np.ndarray | None) -> np.ndarray:
    """What the correction compares: the detectors' input (``e5``), or their head's reading
    (``kinds``: the log-probabilities of its classes, centred), which says what kind of event
    the detector took the article for (a single attack, a coordinated one, an outage, …)."""
    if space == "kinds":
        logs = np.log(np.clip(np.asarray(kinds, dtype=np.float64), 1e-4, 1.0))
        return logs - logs.mean()
    return np.asarray(features, dtype=np.float64)


def logit(p: float | np.ndarray) -> float | np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Vote:
    """The judged articles' vote on an article's detector margin."""

    vectors: np.ndarray  # (n, dim) judged detector inputs, L2-normalised
    signs: np.ndarray  # (n,) +1 relevant, -1 not relevant
    judged: int
    width: float = defaults.FEEDBACK_VOTE_WIDTH
    weight: float = defaults.FEEDBACK_VOTE_WEIGHT
    prior: float = defaults.FEEDBACK_VOTE_PRIOR
    space: str = defaults.FEEDBACK_CORRECTION_SPACE
    promotes: bool = defaults.FEEDBACK_CORRECTION_PROMOTES  # may it turn a miss into a match

    @classmethod
    def of(cls, features: Sequence[np.ndarray], relevant: Sequence[bool], **options: Any) -> Vote:
        x = np.asarray(np.stack(features), dtype=np.float64)
        x /= np.linalg.norm(x, axis=1, keepdims=True).clip(EPSILON)
        signs = np.where(np.asarray(relevant, dtype=bool), 1.0, -1.0)
        return cls(x, signs, len(signs), **options)

    def shift(self, features: np.ndarray) -> float:
        x = np.asarray(features, dtype=np.float64)
        closeness = np.exp((self.vectors @ (x / max(np.linalg.norm(x), EPSILON)) - 1) / self.width)
        return float(self.weight * (closeness @ self.signs) / (self.prior + closeness.sum()))


@dataclass(frozen=True)
class Correction:
    """One watch's fitted correction of its detector's margin."""

    weights: np.ndarray  # (dim,)
    bias: float
    centre: np.ndarray  # (dim,): the judged articles' mean detector input
    judged: int  # judgements it was fitted to
    space: str = defaults.FEEDBACK_CORRECTION_SPACE
    promotes: bool = defaults.FEEDBACK_CORRECTION_PROMOTES

    def shift(self, features: np.ndarray) -> float:
        """What the judgements add to the detector's margin for one article."""
        return float((np.asarray(features, dtype=np.float64) - self.centre) @ self.weights) + (
            self.bias
        )


def fit_correction(
    features: Sequence[np.ndarray],
    margins: Sequence[float],
    relevant: Sequence[bool],
    strength: float = defaults.FEEDBACK_CORRECTION_STRENGTH,
) -> Correction:
    """The correction that minimises the judged articles' logistic loss plus its L2 penalty.

    ``margins`` are the detector's own margins (``logit(p) - logit(t)``) of the judged
    articles, ``features`` their detector inputs."""
    x = np.asarray(np.stack(features), dtype=np.float64)
    centre = x.mean(axis=0)
    x = x - centre
    offsets = np.asarray(margins, dtype=np.float64)
    signs = np.where(np.asarray(relevant, dtype=bool), 1.0, -1.0)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = signs * (offsets + x @ w + b)
        value = float(np.logaddexp(0.0, -z).sum() + strength / 2 * theta @ theta)
        pull = -signs * np.exp(-np.logaddexp(0.0, z))  # d loss / d margin
        gradient = np.append(x.T @ pull, pull.sum()) + strength * theta
        return value, gradient

    start = np.zeros(x.shape[1] + 1)
    theta = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 200}).x
    return Correction(theta[:-1], float(theta[-1]), centre, len(offsets))
