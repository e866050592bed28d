"""A detector watch's own copy of the shipped head, refitted with its judged articles.

On the shipped head and its shipped training set (rules/data/detectors.training.npz): an
article the head reads as a borderline coordinated attack, between the training part's single
and coordinated attacks, fires a coordinated-attacks watch; after articles like it are judged
not relevant the watch's refitted copy no longer fires on another like it, while a clear
coordinated attack still fires; the fit is deterministic and undoing restores the day-one
decision.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks.train_detectors import NEAR_MISSES
from wirewatch.feedback.examples import Example, FeedbackExamples
from wirewatch.feedback.refit import (
    TrainingSet,
    WatchHead,
    fingerprint,
    training_of,
    training_path,
    watch_head,
    write_npz,
)
from wirewatch.models import ArticleEncoding, WatchMatch
from wirewatch.rules.events import DATA_PATH, EventDetectors, Head

EVENT = "coordinated_attack"
WATCH = SimpleNamespace(name="w", regions=[], event=EVENT, specific=False)
REFIT = {"kind": "refit", "weight": 10.0, "promotes": True, "vote": None}  # the refit alone


@pytest.fixture(scope="module")
def detectors() -> EventDetectors:
    return EventDetectors.load(encoder=SimpleNamespace(close=lambda: None))


def shipped_training(detectors: EventDetectors) -> TrainingSet:
    training = training_of(detectors)
    assert training is not None, (
        "rules/data/detectors.training.npz is missing or belongs to another detectors.json: "
        "python -m benchmarks.train_detectors [--training-only]"
    )
    return training


def class_mean(detectors: EventDetectors, label: str) -> np.ndarray:
    """The mean detector input of the training items of ``label`` (attack: single ones)."""
    training = shipped_training(detectors)
    names = set(detectors.detectors[label].classes)
    if label == "attack":
        names -= set(detectors.detectors[EVENT].classes)
    columns = [detectors.head.classes.index(n) for n in names]
    return training.features[np.isin(training.classes, columns)].mean(axis=0)


def borderline(detectors: EventDetectors, seed: int) -> np.ndarray:
    """A mix of the training part's single and coordinated attacks the head reads as just
    above the coordinated detector's threshold, and a little noise."""
    single, coordinated = class_mean(detectors, "attack"), class_mean(detectors, EVENT)
    threshold = detectors.threshold(EVENT)
    for share in np.linspace(0.0, 1.0, 201):
        x = (share * coordinated + (1 - share) * single).astype(np.float32)
        if probability(detectors, x) >= threshold + 0.05:
            noise = np.random.default_rng(seed).normal(scale=0.002, size=x.shape)
            return (x + noise).astype(np.float32)
    raise AssertionError("no mix reads as a coordinated attack")


def probability(detectors: EventDetectors, x: np.ndarray) -> float:
    return detectors.probabilities(x[None, :])[0][EVENT]


def article(detectors: EventDetectors, x: np.ndarray) -> tuple[ArticleEncoding, WatchMatch]:
    p = probability(detectors, x)
    encoding = ArticleEncoding(
        passages=["lead"],
        vectors=np.eye(1, 8, dtype=np.float32),
        places=[],
        events={EVENT: p},
        event_features=x,
        event_kinds=detectors.head.probabilities(x[None, :])[0],
    )
    threshold = detectors.threshold(EVENT)
    return encoding, WatchMatch("w", p >= threshold, round(p, 4), threshold, "lead", reason="d")


def judged(detectors: EventDetectors, *verdicts: tuple[np.ndarray, bool]) -> FeedbackExamples:
    examples = [
        Example(f"a-{i}", relevant, i, np.eye(1, 8, i + 1, dtype=np.float32)[0], x)
        for i, (x, relevant) in enumerate(verdicts)
    ]
    by_watch = {"w": examples} if examples else {}
    return FeedbackExamples(by_watch, correction=REFIT, detectors=detectors, events={"w": EVENT})


def test_the_training_set_ships_with_the_head_it_trained(detectors):
    training = shipped_training(detectors)
    assert len(training.classes) == detectors.provenance["training_items"]
    refitted = detectors.head.probabilities(training.features)
    assert (refitted.argmax(axis=1) == training.classes).mean() > 0.9


def test_false_alarms_judged_drop_a_like_one_not_a_clear_coordinated_attack(detectors):
    like, coordinated = borderline(detectors, 99), class_mean(detectors, EVENT)
    assert article(detectors, like)[1].matched, "the day-one watch fires on it"
    hook = judged(detectors, *[(borderline(detectors, seed), False) for seed in range(3)])
    dropped = hook.adjust(WATCH, *article(detectors, like))
    assert not dropped.matched and dropped.reason.startswith("feedback:")
    refit = hook.by_watch["w"].refit
    assert refit.probability(like) < probability(detectors, like) - 0.05, "the refit learned"
    assert hook.adjust(WATCH, *article(detectors, coordinated)).matched


def test_the_refit_is_deterministic_and_undoing_restores_the_day_one_decision(detectors):
    verdicts = [(borderline(detectors, seed), False) for seed in range(3)]
    first, again = judged(detectors, *verdicts), judged(detectors, *verdicts)
    heads = [hook.by_watch["w"].refit.head for hook in (first, again)]
    assert fingerprint(heads[0]) == fingerprint(heads[1])
    encoding, day_one = article(detectors, borderline(detectors, 99))
    assert judged(detectors).adjust(WATCH, encoding, day_one) is day_one  # all undone
    partly = judged(detectors, *verdicts[:2])  # one undone: refitted without it
    assert fingerprint(partly.by_watch["w"].refit.head) != fingerprint(heads[0])


def test_an_unchanged_watch_keeps_its_head_and_a_watch_by_similarity_has_none(detectors):
    verdicts = [(borderline(detectors, seed), False) for seed in range(2)]
    first = judged(detectors, *verdicts)
    examples = {"w": list(first.by_watch["w"].examples)}
    kept = FeedbackExamples(
        examples, correction=REFIT, detectors=detectors, events={"w": EVENT}, previous=first
    )
    assert kept.by_watch["w"] is first.by_watch["w"]
    by_similarity = FeedbackExamples(examples, correction=REFIT, detectors=detectors, events={})
    assert by_similarity.by_watch["w"].refit is None
    assert by_similarity.by_watch["w"].correction is None


def test_a_training_set_of_another_head_is_refused_and_the_vote_decides(detectors, tmp_path):
    path = tmp_path / "detectors.json"
    shutil.copy(DATA_PATH, path)
    shutil.copy(training_path(DATA_PATH), training_path(path))
    other = Head(detectors.head.classes, detectors.head.weights * 1.01, detectors.head.biases)
    assert TrainingSet.load(training_path(path), other) is None
    retrained = EventDetectors.load(path, encoder=SimpleNamespace(close=lambda: None))
    retrained.head = replace(other)
    verdicts = [(borderline(detectors, seed), False) for seed in range(2)]
    examples = [
        Example(f"a-{i}", r, i, np.eye(1, 8, i + 1, dtype=np.float32)[0], x, np.ones(16), 0.5)
        for i, (x, r) in enumerate(verdicts)
    ]
    hook = FeedbackExamples(
        {"w": examples}, correction=REFIT, detectors=retrained, events={"w": EVENT}
    )
    assert hook.by_watch["w"].refit is None and hook.by_watch["w"].correction is not None


def test_the_training_set_file_is_written_byte_for_byte_the_same(tmp_path):
    """train_detectors rebuilds it deterministically: a rerun must not show up as a change."""
    arrays = {"features": np.arange(12, dtype=np.float16).reshape(3, 4), "c": np.float64(10)}
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    write_npz(first, arrays)
    time.sleep(2.1)  # zip entries carry dates with 2 s resolution
    write_npz(second, arrays)
    assert first.read_bytes() == second.read_bytes()
    with np.load(second) as stored:
        assert (stored["features"] == arrays["features"]).all() and float(stored["c"]) == 10


def test_the_refit_weighs_the_training_items_as_the_head_was_fitted(detectors):
    """Balanced class weights, the goals' near-miss kinds' times the head's near-miss weight."""
    training = shipped_training(detectors)
    near_miss_weight = json.loads(DATA_PATH.read_text(encoding="utf-8"))["head"]["near_miss_weight"]
    near = {k for kinds in NEAR_MISSES.values() for k in kinds}
    counts = np.bincount(training.classes, minlength=len(detectors.head.classes))
    weights = training.sample_weights()
    for k, name in enumerate(detectors.head.classes):
        balanced = len(training.classes) / (len(counts) * counts[k])
        expected = balanced * (near_miss_weight if name in near else 1.0)
        assert np.allclose(weights[training.classes == k], expected), name


def test_a_refitted_copy_reads_a_coordinated_attack_as_the_detectors_do(detectors):
    """With the second reading in the last column, a coordinated-attack watch's copy of the
    head reads on the detector's own scale (so the detector's threshold applies to it)."""
    columns = tuple(detectors.head.classes.index(c) for c in detectors.detectors[EVENT].classes)
    attack = tuple(detectors.head.classes.index(c) for c in detectors.detectors["attack"].classes)
    threshold = detectors.threshold(EVENT)
    copy = WatchHead(
        detectors.head, EVENT, columns, threshold, 0, 1.0, True, attack, detectors.head
    )
    x = borderline(detectors, 7)
    readings = []
    for given in (0.05, 0.95):
        row = np.append(x, np.float32(given))
        readings.append(copy.probability(row))
        assert readings[-1] == pytest.approx(
            detectors.probabilities(row[None, :])[0][EVENT], abs=1e-5
        )
    assert readings[0] < readings[1]


def test_judged_articles_read_twice_refit_the_head_on_its_own_columns(detectors):
    rows = [np.append(borderline(detectors, seed), np.float32(0.9)) for seed in range(3)]
    refit = watch_head(detectors, EVENT, rows, [False] * 3, weight=10.0)
    assert refit is not None and refit.head.weights.shape == detectors.head.weights.shape
    assert refit.attack  # a coordinated-attack watch reads the second reading too
    like = np.append(borderline(detectors, 99), np.float32(0.9))
    assert refit.probability(like) < detectors.probabilities(like[None, :])[0][EVENT]


def attack_copy(detectors: EventDetectors) -> WatchHead:
    """An attack watch's copy of the shipped head, unchanged (no judgement moved it)."""
    assert detectors.attack_reading is not None  # the attack detector's second reading ships
    head = detectors.head
    columns = tuple(head.classes.index(c) for c in detectors.detectors["attack"].classes)
    like = tuple(head.classes.index(c) for c in detectors.attack_reading.family)
    threshold = detectors.threshold("attack")
    return WatchHead(
        head, "attack", columns, threshold, 0, 1.0, True, (), head, like, detectors.attack_reading
    )


def strike_or_attack(detectors: EventDetectors, seed: int) -> np.ndarray:
    """A mix of the training part's air strikes and single attacks the detectors read as just
    above the attack detector's threshold, and a little noise."""
    training = shipped_training(detectors)
    strikes = training.features[training.classes == detectors.head.classes.index("air_strike")]
    single = class_mean(detectors, "attack")
    noise = np.random.default_rng(seed).normal(scale=0.002, size=single.shape)
    for share in np.linspace(1.0, 0.0, 201):
        x = (share * strikes.mean(axis=0) + (1 - share) * single + noise).astype(np.float32)
        if detectors.probabilities(x[None, :])[0]["attack"] >= detectors.threshold("attack") + 0.05:
            return x
    raise AssertionError("no mix reads as an attack")


def test_a_refitted_copy_reads_an_attack_as_the_detectors_do(detectors):
    """An attack watch's copy combines the attack detector's second reading (its dense part,
    and the latent terms' in the 770th column, or none when not read twice) as the detector
    does, so the detector's threshold applies to it."""
    copy = attack_copy(detectors)
    x = strike_or_attack(detectors, 7)
    given = np.float32(0.5)
    rows = [x, np.append(x, given)] + [np.append(x, [given, np.float32(t)]) for t in (0.05, 0.95)]
    readings = [copy.probability(row) for row in rows]
    for row, reading in zip(rows, readings, strict=True):
        assert reading == pytest.approx(
            detectors.probabilities(row[None, :])[0]["attack"], abs=1e-5
        )
    assert readings[2] < readings[0] < readings[3]  # the terms' reading counts


def test_air_strikes_judged_not_relevant_stop_a_like_one_for_that_attack_watch(detectors):
    rows = [strike_or_attack(detectors, seed) for seed in range(3)]
    refit = watch_head(detectors, "attack", rows, [False] * 3, weight=10.0)
    assert refit is not None and refit.like and refit.reading is detectors.attack_reading
    like = strike_or_attack(detectors, 99)
    assert detectors.probabilities(like[None, :])[0]["attack"] >= detectors.threshold("attack")
    assert refit.probability(like) < detectors.threshold("attack")
    clear = class_mean(detectors, "attack")
    assert refit.probability(clear) >= detectors.threshold("attack")
