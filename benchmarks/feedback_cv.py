"""Choosing how feedback adapts a watch, honestly: cross-validation on the training part.

    python -m benchmarks.feedback_cv [--cache DIR] [--only TEXT]

The learned detectors were trained on the training part, so replaying it as it is says
nothing (the day-one watches are near-perfect there). Instead: 5 folds of the training part
grouped by event (train_detectors' first GroupKFold split); per fold the detectors are built
again as train_detectors builds them, on the other four folds' items only (``fold_detectors``:
the head by ``train_detectors.fit`` at the shipped C and near-miss weight, every second reading
the shipped detectors.json has, ``SECOND_READINGS``, the training file a judged watch refits on
by ``train_detectors.write_training``; the shipped thresholds), the held-out fold is read by
them as the product reads an article (``EventDetectors.features_of``, from the caches) and
decided again by the product's matcher, and the analyst of benchmarks/feedback_replay.py
replays it in published order (every alert and every relevant article of the first 30 %
judged, each through the product's hook; F1 on the rest) for each candidate setting. Counts
are summed over the folds per watch; macro F1 over the day-one watches. ``--cache DIR`` keeps
the detectors' inputs (``e5_train.npz`` and ``e5_train.terms.npz``, train_detectors' cache
files) and the matcher's decisions of the training part (the first run takes about 12
minutes more). The frozen test part is never read. Figures: docs/feedback.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import attack_reading, given_attack
from benchmarks.corpus_eval import DEFAULT_LABELS, Counts, load_part, load_watches, to_article
from benchmarks.feedback_replay import NO_FEEDBACK, WATCHES, Judging, Params, decide, run_all
from benchmarks.train_detectors import (
    FOLDS,
    attack_family,
    features,
    fit,
    splits,
    training_items,
    write_training,
)
from wirewatch import defaults
from wirewatch.backtest import parse_label_spec, parse_published
from wirewatch.feedback import examples as examples_module
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import DATA_PATH, EventDetectors
from wirewatch.rules.leads import article_text, reading
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer

NEAR_SIMILARITIES = (0.90, 0.92, 0.93, 0.94, 0.95)  # cosine of the detectors' lead features
NEAR_MARGINS = (0.5, 1.0, 2.0, 1e9)  # the detector's margin at most this (1e9: any match)
NEAR_COPIES = Params(correction=None)
VOTE = {"width": 0.02, "weight": 1.0, "prior": 1.0}
OFF = {"threshold": None, "near": None}
REFIT = {"kind": "refit", "weight": 10.0, "promotes": False, "vote": VOTE}
ALONE = {"kind": "none", "threshold": None}  # no correction of the detector's margin


def candidates() -> dict[str, Params]:
    """The day-one watch, near copies alone, the refitted head then the vote (the setting
    before, docs/feedback.md), and the judged articles as neighbours in the detectors'
    reading (feedback/near.py) at several similarities and margins: alone (dropping only, or
    rescuing near misses too), after the refit and the vote, after the vote alone, and after
    the watch's own threshold."""
    settings = {
        "day-one watch": NO_FEEDBACK,
        "near copies only": NEAR_COPIES,
        "refit 10 + vote (before)": Params(correction={**REFIT, **OFF}),
        "the shipped defaults (defaults.FEEDBACK_*)": Params(),
    }
    for similarity in NEAR_SIMILARITIES:
        for margin in NEAR_MARGINS:
            near = {"similarity": similarity, "margin": margin}
            name = f"near {similarity:g} margin {margin:g}"
            settings[name] = Params(correction={**ALONE, "near": near})
            rescues = {**near, "rescues": True}
            settings[f"{name} rescues"] = Params(correction={**ALONE, "near": rescues})
        near = {"similarity": similarity, "margin": 1.0}
        settings[f"refit + vote + near {similarity:g} margin 1"] = Params(
            correction={**REFIT, "threshold": None, "near": near}
        )
    near = {"similarity": 0.93, "margin": 1.0}
    settings["vote + near 0.93 margin 1"] = Params(
        correction={"kind": "vote", **VOTE, "threshold": None, "near": near}
    )
    settings["own threshold 10 + vote + near 0.93 margin 1"] = Params(
        correction={"kind": "vote", **VOTE, "threshold": {"prior": 10.0}, "near": near}
    )
    return settings


class CachedLeads:
    """The lead encoder (``encoder``), answering from the caches for the training items (what
    ``EventDetectors.features_of`` asks of it: lead features and latent terms); anything
    else (a sentence the matcher reads alone) it encodes."""

    def __init__(self, items: list[dict], x: np.ndarray, terms: Any, encoder: Any) -> None:
        self.rows = {_key(reading(i["title"], i["text"])): k for k, i in enumerate(items)}
        self.texts = {article_text(i["title"], i["text"]): k for k, i in enumerate(items)}
        self.x, self.terms, self.encoder = x.astype(np.float32), terms, encoder

    def features(self, readings: list) -> np.ndarray:
        rows = [self.rows.get(_key(r)) for r in readings]
        if None in rows:
            return self.encoder.features(readings)
        return self.x[rows]

    def latent_terms(self, texts: list[str]) -> Any:
        rows = [self.texts.get(t) for t in texts]
        if None in rows:
            return self.encoder.latent_terms(texts)
        return self.terms[rows]

    def close(self) -> None:
        pass


def _key(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def refit_given_attack(x: np.ndarray, terms: Any, items: list[dict], head: dict) -> dict:
    """train_detectors' second reading of the coordinated-attack detector, on ``items``."""
    attack = np.array([bool(i["labels"]["attack"]) for i in items])
    truth = np.array([bool(i["labels"]["coordinated_attack"]) for i in items])
    return given_attack.fit(terms, attack, truth)


def refit_attack_reading(x: np.ndarray, terms: Any, items: list[dict], head: dict) -> dict:
    """train_detectors' second reading of the attack detector, on ``items``."""
    return attack_reading.fit(x, terms, items, attack_family(head["classes"]))


# what train_detectors fits besides the head, by its key in detectors.json (a second reading
# train_detectors adds must be added here, or the fold would keep one trained on all items)
SECOND_READINGS = {"given_attack": refit_given_attack, "attack_reading": refit_attack_reading}
SHIPPED_KEYS = {"provenance", "head", "detectors"}


def fold_detectors(
    shipped: dict, x: np.ndarray, terms: Any, items: list[dict], folder: Path, leads: Any
) -> EventDetectors:
    """The shipped detectors (``shipped``: detectors.json) trained again on ``items`` only, as
    train_detectors trains them at the shipped C, near-miss weight and thresholds: the head
    (``train_detectors.fit``), every second reading it ships, and the training file a judged
    watch refits on (``train_detectors.write_training``, float16 as shipped)."""
    unknown = set(shipped) - SHIPPED_KEYS - set(SECOND_READINGS)
    if unknown:
        raise SystemExit(f"feedback_cv cannot train {sorted(unknown)} per fold: add it")
    head = shipped["head"]
    data = {**shipped, "head": fit(x, items, head["C"], head.get("near_miss_weight", 1.0))}
    data["provenance"] = {**shipped["provenance"], "training_items": len(items)}
    for key, refit in SECOND_READINGS.items():
        if shipped.get(key):
            data[key] = refit(x, terms, items, data["head"])
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "detectors.json"
    out.write_text(json.dumps(data), encoding="utf-8")
    if write_training(out, x, items) != 0:
        raise SystemExit(f"could not write the training set of {out}")
    return EventDetectors.load(out, encoder=leads)


def redecide(matcher: Matcher, detectors: EventDetectors, items, results) -> list:
    """The held-out items decided again by the matcher with the fold's detectors (read as the
    product reads them: ``EventDetectors.features_of``, every second reading included)."""
    matcher.detectors = detectors
    matcher._sentence_readings = None  # the sentence readings of another head
    read = detectors.features_of([(i["title"], i["text"]) for i in items])
    events = detectors.probabilities(read)
    kinds = detectors.head.probabilities(read)
    redecided = []
    for k, (item, (encoding, _)) in enumerate(zip(items, results, strict=True)):
        again = replace(encoding, events=events[k], event_features=read[k], event_kinds=kinds[k])
        redecided.append((again, matcher.match(to_article(item), again)))
    return redecided


def decisions_key(items: list[dict]) -> str:
    """What the day-one decisions of the training part depend on: its items (ids and texts)
    and the shipped detectors (a grown corpus or retrained detectors decide again)."""
    digest = hashlib.sha256(DATA_PATH.read_bytes())
    for item in items:
        digest.update(_key([item["id"], item["title"], item["text"]]).encode())
    return digest.hexdigest()[:16]


def memoise_refits() -> None:
    """Every refit candidate replays the same judgements in the same order: fit each watch's
    head once per (fold's detectors, judged articles and verdicts, options) and reuse it (a
    refit depends on nothing else, feedback/refit.py)."""
    fitted: dict[tuple, Any] = {}
    refit_of = examples_module.refit_of

    def memoised(examples, detectors, event, **options):
        key = (
            detectors,  # by identity (held here: no reuse of its id)
            event,
            tuple((e.article_id, e.relevant) for e in examples),
            repr(sorted(options.items())),
        )
        if key not in fitted:
            fitted[key] = refit_of(examples, detectors, event, **options)
        return fitted[key]

    examples_module.refit_of = memoised


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/wirewatch-feedback-cv"))
    parser.add_argument("--only", help="the settings whose name contains this (and day one)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.cache.mkdir(parents=True, exist_ok=True)
    memoise_refits()
    train = training_items()
    x = features(train, 1, args.cache / "e5_train.npz").astype(np.float64)
    terms = given_attack.latent_terms(train, 1, args.cache / "e5_train.npz")
    groups = np.array([i["event_id"] for i in train])
    items = sorted(load_part("train"), key=lambda i: parse_published(str(i["published"])))
    watches = load_watches(WATCHES)
    gazetteer = Gazetteer.load()
    specs = {
        w.name: parse_label_spec(f"{w.name}={DEFAULT_LABELS[w.name]}", gazetteer) for w in watches
    }
    matcher = Matcher(watches, Encoder(defaults.MODEL_NAME), gazetteer, feedback=Judging())
    results = decide(matcher, items, args.cache / f"train-{decisions_key(items)}.pickle")
    leads = CachedLeads(train, x, terms, matcher.detectors.encoder)
    shipped = json.loads(DATA_PATH.read_text(encoding="utf-8"))
    position = {str(i["id"]): k for k, i in enumerate(items)}
    totals: dict[str, dict[str, tuple[Counts, int]]] = {}
    for fold, (fitted_on, held) in enumerate(splits(x, groups)[0]):
        fold_items = [train[k] for k in fitted_on]
        folder = args.cache / f"fold{fold + 1}"
        detectors = fold_detectors(
            shipped, x[fitted_on], terms[fitted_on], fold_items, folder, leads
        )
        order = sorted(position[str(train[k]["id"])] for k in held)
        held_items = [items[k] for k in order]
        held_results = redecide(matcher, detectors, held_items, [results[k] for k in order])
        for name, params in candidates().items():
            if args.only and args.only not in name and params is not NO_FEEDBACK:
                continue
            for r in run_all(matcher, specs, held_items, held_results, params):
                counts, judged = totals.setdefault(name, {}).get(r.watch, (Counts(), 0))
                after = r.before if params is NO_FEEDBACK else r.after
                for field in ("tp", "fp", "fn"):
                    setattr(counts, field, getattr(counts, field) + getattr(after, field))
                totals[name][r.watch] = (counts, judged + r.judgements)
        print(f"fold {fold + 1}/{FOLDS}: {len(held_items)} held-out items", flush=True)
    matcher.close()
    report(totals)
    return 0


def report(totals: dict[str, dict[str, tuple[Any, int]]]) -> None:
    names = list(next(iter(totals.values())))
    print(f"\n{FOLDS}-fold CV on the training part (grouped by event), F1 on the last 70 %:")
    print(f"{'setting':42} " + " ".join(f"{n[:14]:>14}" for n in names) + "   macro")
    for setting, per_watch in totals.items():
        f1s = [per_watch[n][0].f1 for n in names]
        row = " ".join(f"{f:14.3f}" for f in f1s)
        fp = sum(per_watch[n][0].fp for n in names)
        fn = sum(per_watch[n][0].fn for n in names)
        print(f"{setting:42} {row}   {sum(f1s) / len(f1s):.3f}  (fp {fp}, fn {fn})")
    judged = [str(max(per_watch[n][1] for per_watch in totals.values())) for n in names]
    print(f"{'judgements (all folds)':42} " + " ".join(f"{j:>14}" for j in judged))


if __name__ == "__main__":
    raise SystemExit(main())
