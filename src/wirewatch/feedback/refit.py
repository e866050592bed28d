"""A detector watch's own copy of the detectors' head, refitted with the team's judgements.

The learned detectors (rules/events.py) are one multinomial logistic regression over the
corpus's kinds, trained on the training part of corpus/. When a watch bound to a detector is
judged, its judged articles become **training items of that watch**: the head is fitted again
on the shipped training items (their detector inputs ship next to the head,
``detectors.training.npz``, written by ``python -m benchmarks.train_detectors``) plus the
judged articles, each with the sample weight ``weight`` (in training items: the balanced
class weights of the training items average 1). A judged article's class is the kind the
shipped head reads it as, among the watch's classes when it was judged relevant (a
coordinated assault for a coordinated-attacks watch), among the others when it was not (a
single attack). The copy decides that watch only: another watch judged otherwise keeps its
own copy, and the shared head is unchanged.

The fit is the shipped one (softmax cross-entropy, the class weights the head was fitted
with, which the training file carries: balanced, the near-miss kinds' times the head's
near-miss weight; L2 penalty ``1 / (2C)`` on the weights, not the biases) by L-BFGS started
from the shipped head, so it is deterministic (same judgements, same copy) and fast (about
0.2-0.4 s of one core for 740 items). It runs on one BLAS thread: its products are small,
and BLAS threads fighting for busy cores made one refit take 80-100 s instead (a shared,
loaded 2-core machine). With no
judgement a watch has no copy: undoing every judgement restores the day-one decisions
exactly. The training file records the fingerprint of the head it was written
with; a file that does not belong to the shipped head (detectors.json retrained without it)
is not used (a warning says to rerun train_detectors) and the watch falls back to the vote of
feedback/correction.py.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from wirewatch import defaults
from wirewatch.rules.events import Head, attack_probability, coordinated, unread_terms

log = logging.getLogger(__name__)

TRAINING_SUFFIX = ".training.npz"


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed entry dates, so a rerun writes the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w") as out:
                np.lib.format.write_array(out, np.asanyarray(array), allow_pickle=False)


def fingerprint(head: Head) -> str:
    """The sha256 of a head's classes, weights and biases (as loaded, float32)."""
    digest = hashlib.sha256("\n".join(head.classes).encode())
    digest.update(np.ascontiguousarray(head.weights, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(head.biases, dtype=np.float32).tobytes())
    return digest.hexdigest()


def training_path(detectors_path: Path) -> Path:
    """``…/detectors.json`` -> ``…/detectors.training.npz``."""
    return detectors_path.with_name(detectors_path.stem + TRAINING_SUFFIX)


@dataclass(frozen=True)
class TrainingSet:
    """The items a head was trained on, as the refit needs them."""

    features: np.ndarray  # (n, dim) detector inputs
    classes: np.ndarray  # (n,) index of each item's class in the head's classes
    c: float  # the head's inverse L2 strength
    class_weights: np.ndarray | None = None  # per head class, as fitted; None: balanced

    def save(self, path: Path, head: Head) -> None:
        """Written by train_detectors next to the head (float16: about 1 MB for 740 items)."""
        arrays = {
            "features": self.features.astype(np.float16),
            "classes": np.asarray([head.classes[k] for k in self.classes]),
            "c": np.float64(self.c),
            "head": np.asarray(fingerprint(head)),
        }
        if self.class_weights is not None:
            arrays["class_weights"] = np.asarray(self.class_weights, dtype=np.float64)
        write_npz(path, arrays)

    def sample_weights(self) -> np.ndarray:
        """Each item's weight in the fit: its class's weight (balanced when none is stored)."""
        if self.class_weights is not None:
            return np.asarray(self.class_weights, dtype=np.float64)[self.classes]
        k = int(self.classes.max()) + 1 if len(self.classes) else 1
        counts = np.bincount(self.classes, minlength=k)
        present = int((counts > 0).sum())
        return len(self.classes) / (present * counts.clip(1)[self.classes])

    @classmethod
    def load(cls, path: Path, head: Head) -> TrainingSet | None:
        """The training set of ``head``; None (with a warning) when missing or another head's."""
        if not path.exists():
            log.warning("feedback: no %s; detector watches learn by the vote only", path.name)
            return None
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["head"]) != fingerprint(head):
                log.warning(
                    "feedback: %s was written for another detectors.json; detector watches "
                    "learn by the vote only (run python -m benchmarks.train_detectors)",
                    path.name,
                )
                return None
            names = [str(n) for n in stored["classes"]]
            classes = np.asarray([head.classes.index(n) for n in names], dtype=np.int64)
            weights = stored.get("class_weights", None)
            return cls(stored["features"].astype(np.float32), classes, float(stored["c"]), weights)


def training_of(detectors: Any) -> TrainingSet | None:
    """The detectors' training set, loaded once (next to the file they came from)."""
    if detectors is None:
        return None
    if getattr(detectors, "training", None) is None and getattr(detectors, "source", None):
        detectors.training = TrainingSet.load(training_path(detectors.source), detectors.head)
        detectors.source = None  # tried: not again
    return getattr(detectors, "training", None)


def fit_head(
    head: Head,
    training: TrainingSet,
    extra: np.ndarray,
    extra_classes: Sequence[int],
    weight: float,
) -> Head:
    """``head`` fitted again on the training set plus ``extra`` items, each of weight
    ``weight``, by L-BFGS from ``head`` (the shipped objective, see the module docstring)."""
    k, dim = head.weights.shape
    judged = np.asarray(extra, dtype=np.float32).reshape(len(extra_classes), -1)[:, :dim]
    x = np.concatenate([training.features, judged]).astype(np.float64)
    sample = np.concatenate([training.sample_weights(), np.full(len(extra_classes), float(weight))])
    classes = np.concatenate([training.classes, np.asarray(extra_classes, dtype=np.int64)])
    onehot = np.zeros((len(classes), k))
    onehot[np.arange(len(classes)), classes] = 1.0
    penalty = 1.0 / training.c

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: k * dim].reshape(k, dim), theta[k * dim :]
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -float(sample @ (onehot * logp).sum(axis=1)) + penalty / 2 * float((w * w).sum())
        pull = (np.exp(logp) - onehot) * sample[:, None]
        return value, np.concatenate([(pull.T @ x + penalty * w).ravel(), pull.sum(axis=0)])

    start = np.concatenate([head.weights.ravel(), head.biases]).astype(np.float64)
    options = {"maxiter": defaults.FEEDBACK_REFIT_ITERATIONS}
    with threadpool_limits(limits=1, user_api="blas"):  # see the module docstring
        theta = minimize(loss, start, jac=True, method="L-BFGS-B", options=options).x
    weights = theta[: k * dim].reshape(k, dim).astype(np.float32)
    return Head(head.classes, weights, theta[k * dim :].astype(np.float32))


@dataclass(frozen=True)
class WatchHead:
    """One watch's refitted copy of the head, and how it decides that watch."""

    head: Head
    event: str  # the event type of the watch's detector
    columns: tuple[int, ...]  # the watch's event's classes (their probabilities sum)
    threshold: float  # the detector's decision threshold
    judged: int
    weight: float
    promotes: bool = defaults.FEEDBACK_REFIT_PROMOTES  # may it turn a miss into a match
    attack: tuple[int, ...] = ()  # of a coordinated-attack watch: the attack classes
    shipped: Head | None = None  # ... and the shipped head (the second reading's scale)
    like: tuple[int, ...] = ()  # of an attack watch: the attack-like classes
    reading: Any = None  # ... and the detectors' AttackReading (rules/events.py)

    def probability(self, features: np.ndarray) -> float:
        """P(the watch's event) by the refitted head. A coordinated-attacks watch's combines
        it with the detectors' second reading (the last column of ``features``, rules/events.py)
        as the detector does, that reading scaled by how much the judgements moved the head's
        own P(coordinated | attack) (judged single attacks lower both); an attack watch's
        likewise with the attack detector's second reading (``attack_probability``)."""
        row = np.asarray(features, dtype=np.float32)
        kinds = self.head.probabilities(row[None, :])[0]
        p = float(kinds[list(self.columns)].sum())
        if self.like and self.reading is not None and self.shipped is not None:
            return self.attack_probability(row, p, float(kinds[list(self.like)].sum()))
        if not self.attack or self.shipped is None or row.shape[0] <= self.head.weights.shape[1]:
            return p
        attack = float(kinds[list(self.attack)].sum())
        before = self.shipped.probabilities(row[None, :])[0]
        was = float(before[list(self.columns)].sum()) / max(
            float(before[list(self.attack)].sum()), 1e-12
        )
        now = p / max(attack, 1e-12)
        given = min(1.0, float(row[-1]) * now / max(was, 1e-12))
        return float(coordinated(np.float64(attack), np.float64(p), np.float64(given)))

    def attack_probability(self, row: np.ndarray, p: float, like: float) -> float:
        """An attack watch's P(attack) as the detector combines it (rules/events.py
        ``attack_probability``), its two fixed readings scaled by how much the judgements moved
        the head's own P(attack | attack-like) (judged air strikes lower all three)."""
        assert self.shipped is not None
        width = self.head.weights.shape[1]
        before = self.shipped.probabilities(row[None, :])[0]
        was_attack = float(before[list(self.columns)].sum())
        was_like = max(float(before[list(self.like)].sum()), 1e-12)
        scale = (p / max(like, 1e-12)) / max(was_attack / was_like, 1e-12)
        dense = float(self.reading.dense(row[None, :].astype(np.float64))[0])
        if row.shape[0] > width + 1:
            terms = float(row[width + 1])
        else:
            terms = float(unread_terms(np.float64(was_attack), np.float64(was_like), dense))
        dense, terms = min(1.0, dense * scale), min(1.0, terms * scale)
        return float(attack_probability(np.float64(p), np.float64(like), dense, terms))


def judged_class(head: Head, columns: Sequence[int], features: np.ndarray, relevant: bool) -> int:
    """The class a judged article trains: the likeliest (by ``head``) of the watch's classes
    when relevant, of the other classes when not."""
    kinds = head.probabilities(np.asarray(features, dtype=np.float32)[None, :])[0]
    allowed = np.zeros(len(kinds), dtype=bool)
    allowed[list(columns)] = True
    if not relevant:
        allowed = ~allowed
    return int(np.argmax(np.where(allowed, kinds, -1.0)))


def watch_head(
    detectors: Any,
    event: str,
    features: Sequence[np.ndarray],
    relevant: Sequence[bool],
    weight: float = defaults.FEEDBACK_REFIT_WEIGHT,
    promotes: bool = defaults.FEEDBACK_REFIT_PROMOTES,
) -> WatchHead | None:
    """The copy of ``detectors``' head refitted with one watch's judged articles (their
    detector inputs and verdicts); None without a training set or a judged article."""
    training = training_of(detectors)
    if training is None or not len(features):
        return None
    head = detectors.head
    columns = tuple(head.classes.index(c) for c in detectors.detectors[event].classes)
    # the lead feature only: judgements stored before a second reading shipped are narrower
    dim = head.weights.shape[1]
    x = np.stack([np.asarray(f, dtype=np.float32)[:dim] for f in features])
    classes = [judged_class(head, columns, f, r) for f, r in zip(x, relevant, strict=True)]
    fitted = fit_head(head, training, x, classes, weight)
    attack = ()
    if event == "coordinated_attack" and getattr(detectors, "given_attack", None) is not None:
        attack = tuple(head.classes.index(c) for c in detectors.detectors["attack"].classes)
    like: tuple[int, ...] = ()
    reading = getattr(detectors, "attack_reading", None)
    if event == "attack" and reading is not None:
        like = tuple(head.classes.index(c) for c in reading.family)
    threshold = detectors.threshold(event)
    shipped = head if attack or like else None
    return WatchHead(
        fitted, event, columns, threshold, len(x), weight, promotes, attack, shipped, like, reading
    )
