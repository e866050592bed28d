"""Choosing how feedback adapts a watch, honestly: cross-validation on the training part.

    python -m benchmarks.feedback_cv [--cache DIR] [--only TEXT]

The learned detectors were trained on the training part, so replaying it as it is says
nothing (the day-one watches are near-perfect there). Instead: 5 folds of the training part
grouped by event (train_detectors' GroupKFold); per fold the detectors' head is retrained on
the other four folds (train_detectors' procedure at the shipped C, the shipped thresholds),
the held-out fold is decided again by the product's matcher with that head (a judged watch
refits its copy of it on the other four folds' items, as the product refits the shipped head on
the training part), and the analyst
of benchmarks/feedback_replay.py replays it in published order (every alert and every
relevant article of the first 30 % judged, each through the product's hook; F1 on the rest)
for each candidate setting. Counts are summed over the folds per watch; macro F1 over the
day-one watches. ``--cache DIR`` keeps the e5 vectors and the matcher's encodings (the
first run takes a few minutes). The frozen test part is never read. Figures:
docs/feedback.md.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.corpus_eval import DEFAULT_LABELS, Counts, load_part, load_watches, to_article
from benchmarks.feedback_replay import NO_FEEDBACK, WATCHES, Judging, Params, decide, run_all
from benchmarks.train_detectors import FOLDS, features, fit, kind_class, training_items
from wirewatch import defaults
from wirewatch.backtest import parse_label_spec, parse_published
from wirewatch.feedback.refit import TrainingSet
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import EventDetectors, Head
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer

REFIT_WEIGHTS = (3.0, 10.0, 30.0)  # a judged article's weight in the refit
THRESHOLD_PRIORS = (3.0, 5.0, 10.0, 20.0)  # the watch's own threshold: n / (n + prior) of the cut
NEAR_COPIES = Params(correction=None)
VOTE = {"kind": "vote", "space": "kinds", "width": 0.02, "weight": 1.0, "prior": 1.0}


def candidates() -> dict[str, Params]:
    """The day-one watch, near copies alone, the vote and the refitted head chosen before
    (docs/feedback.md), the watch's own threshold at several priors (alone, after the vote's
    margin, after the refit; raising only or both ways), and the near-copy rule for judged
    missed reports loosened."""
    vote = {k: v for k, v in VOTE.items() if k != "kind"}
    off = {"threshold": None}
    settings = {
        "day-one watch": NO_FEEDBACK,
        "near copies only": NEAR_COPIES,
        "vote, drops only": Params(correction={**VOTE, **off}),
        "refit 10, drops only, + vote (before)": Params(
            correction={"kind": "refit", "weight": 10.0, "promotes": False, "vote": vote, **off}
        ),
    }
    for prior in THRESHOLD_PRIORS:
        own = {"threshold": {"prior": prior}}
        settings[f"own threshold {prior:g}"] = Params(correction={"kind": "threshold", **own})
        settings[f"own threshold {prior:g}, + vote"] = Params(correction={**VOTE, **own})
    own = {"threshold": {"prior": 10.0}}
    both = {"threshold": {"prior": 10.0, "promotes": True}}
    settings["own threshold 10 both ways, + vote"] = Params(correction={**VOTE, **both})
    for weight in REFIT_WEIGHTS:
        refit = {"kind": "refit", "weight": weight, "promotes": False, "vote": vote, **own}
        settings[f"refit {weight:g}, own threshold 10, + vote"] = Params(correction=refit)
    for similarity in (0.90, 0.95):
        settings[f"own threshold 10, + vote, missed copies {similarity}"] = Params(
            relevant_similarity=similarity, correction={**VOTE, **own}
        )
    return settings


def fold_detectors(shipped: EventDetectors, x: np.ndarray, items: list[dict]) -> EventDetectors:
    """The shipped detectors with their head retrained on ``items`` only."""
    c = _shipped_c()
    head = fit(x, items, c)
    fitted = Head(
        tuple(head["classes"]),
        np.asarray(head["weights"], dtype=np.float32),
        np.asarray(head["biases"], dtype=np.float32),
    )
    detectors = EventDetectors(fitted, shipped.detectors, shipped.provenance, shipped.encoder)
    classes = np.array([fitted.classes.index(kind_class(i)) for i in items])
    shipped_x = x.astype(np.float16).astype(np.float32)  # as detectors.training.npz keeps them
    detectors.training = TrainingSet(shipped_x, classes, c)  # what a judged watch refits on
    return detectors


def _shipped_c() -> float:
    import json

    from wirewatch.rules.events import DATA_PATH

    return float(json.loads(DATA_PATH.read_text(encoding="utf-8"))["head"]["C"])


def redecide(matcher: Matcher, detectors: EventDetectors, items, results, x_of) -> list:
    """The held-out items decided again by the matcher with the fold's detectors."""
    matcher.detectors = detectors
    matcher._sentence_readings = None  # the sentence readings of another head
    redecided = []
    for item, (encoding, _) in zip(items, results, strict=True):
        read = x_of[str(item["id"])].astype(np.float32)
        events = detectors.probabilities(read[None, :])[0]
        kinds = detectors.head.probabilities(read[None, :])[0]
        again = replace(encoding, events=events, event_features=read, event_kinds=kinds)
        redecided.append((again, matcher.match(to_article(item), again)))
    return redecided


def main(argv: list[str] | None = None) -> int:
    from sklearn.model_selection import GroupKFold

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/wirewatch-feedback-cv"))
    parser.add_argument("--only", help="the settings whose name contains this (and day one)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.cache.mkdir(parents=True, exist_ok=True)
    train = training_items()
    x = features(train, 1, args.cache / "e5_train.npz").astype(np.float64)
    x_of = {str(i["id"]): row for i, row in zip(train, x, strict=True)}
    groups = np.array([i["event_id"] for i in train])
    items = sorted(load_part("train"), key=lambda i: parse_published(str(i["published"])))
    watches = load_watches(WATCHES)
    gazetteer = Gazetteer.load()
    specs = {
        w.name: parse_label_spec(f"{w.name}={DEFAULT_LABELS[w.name]}", gazetteer) for w in watches
    }
    matcher = Matcher(watches, Encoder(defaults.MODEL_NAME), gazetteer, feedback=Judging())
    results = decide(matcher, items, args.cache / "train.pickle")
    shipped = matcher.detectors
    position = {str(i["id"]): k for k, i in enumerate(items)}
    totals: dict[str, dict[str, tuple[Counts, int]]] = {}
    kinds = np.array([kind_class(i) for i in train])
    for fold, (fitted_on, held) in enumerate(GroupKFold(FOLDS).split(x, kinds, groups)):
        detectors = fold_detectors(shipped, x[fitted_on], [train[k] for k in fitted_on])
        order = sorted(position[str(train[k]["id"])] for k in held)
        fold_items = [items[k] for k in order]
        fold_results = redecide(matcher, detectors, fold_items, [results[k] for k in order], x_of)
        for name, params in candidates().items():
            if args.only and args.only not in name and params is not NO_FEEDBACK:
                continue
            for r in run_all(matcher, specs, fold_items, fold_results, params):
                counts, judged = totals.setdefault(name, {}).get(r.watch, (Counts(), 0))
                after = r.before if params is NO_FEEDBACK else r.after
                for field in ("tp", "fp", "fn"):
                    setattr(counts, field, getattr(counts, field) + getattr(after, field))
                totals[name][r.watch] = (counts, judged + r.judgements)
        print(f"fold {fold + 1}/{FOLDS}: {len(fold_items)} held-out items", flush=True)
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
