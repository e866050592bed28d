"""What new training shards add to the detectors, on the training part only.

    python -m benchmarks.corpus_growth --new hard-shutdowns,hard-attacks [--cache FILE] [--c 10]

A 5-fold cross-validation grouped by event over the whole training part. In every fold the
head (train_detectors' model) is fitted twice on the training folds: (a) without the items
of the `--new` shards, (b) with them; both are scored on the held-out fold. Printed per
label, for the held-out items that are not new and for the new ones: the F1 at its best
threshold and how many near misses fire it at that threshold. The frozen test part is never
read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.train_detectors import (
    FOLDS,
    NEAR_MISSES,
    best_threshold,
    kind_class,
    label_columns,
    model,
    training_items,
)
from wirewatch.rules.events import LABELS
from wirewatch.rules.leads import LeadEncoder, reading


def vectors(items: list[dict], cache: Path | None) -> np.ndarray:
    """The detectors' inputs, kept per item id in `cache` (.npz) for reruns."""
    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.exists():
        with np.load(cache) as stored:
            known = dict(zip(stored["ids"], stored["x"], strict=True))
    missing = [i for i in items if i["id"] not in known]
    if missing:
        encoded = LeadEncoder(1).features([reading(i["title"], i["text"]) for i in missing])
        known.update({i["id"]: v for i, v in zip(missing, encoded, strict=True)})
        if cache is not None:
            np.savez(cache, ids=np.array(list(known)), x=np.stack(list(known.values())))
    return np.stack([known[i["id"]] for i in items]).astype(np.float64)


def out_of_fold(x: np.ndarray, items: list[dict], keep: np.ndarray, c: float) -> np.ndarray:
    """(items, classes) held-out probabilities of heads fitted on the `keep` items only."""
    from sklearn.model_selection import GroupKFold

    kinds = np.array([kind_class(i) for i in items])
    groups = np.array([i["event_id"] for i in items])
    classes = sorted(set(kinds))
    p = np.zeros((len(items), len(classes)))
    for train, held in GroupKFold(FOLDS).split(x, kinds, groups):
        fitted = model(c).fit(x[train[keep[train]]], kinds[train[keep[train]]])
        columns = [classes.index(k) for k in fitted.classes_]
        p[np.ix_(held, columns)] = fitted.predict_proba(x[held])
    return p


def row(items: list[dict], p: np.ndarray, mask: np.ndarray) -> str:
    classes = sorted({kind_class(i) for i in items})
    kinds = np.array([i.get("kind") or "" for i in items])[mask]
    cells = []
    for label in LABELS:
        y = np.array([bool(i["labels"][label]) for i in items])[mask]
        probability = p[:, label_columns(classes, label)].sum(axis=1)[mask]
        f1, threshold = best_threshold(probability, y)
        cell = f"{label} {f1:.3f} @{threshold:.3f}"
        fires = probability >= threshold
        near = [
            f"{k} {int(fires[kinds == k].sum())}/{int((kinds == k).sum())}"
            for k in NEAR_MISSES.get(label, ())
        ]
        cells.append(cell + (f" [{', '.join(near)}]" if near else ""))
    return "  ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--new", required=True, help="comma-separated shard names (items/NAME.jsonl)"
    )
    parser.add_argument("--cache", type=Path, help="keep the items' vectors here (.npz)")
    parser.add_argument("--c", type=float, default=10.0, help="the head's C (train_detectors')")
    args = parser.parse_args(argv)
    prefixes = tuple(f"{name}-" for name in args.new.split(","))
    items = training_items()
    new = np.array([i["id"].startswith(prefixes) for i in items])
    x = vectors(items, args.cache)
    print(f"{len(items)} training items, {int(new.sum())} of them in {args.new}; C {args.c}")
    without = out_of_fold(x, items, ~new, args.c)
    with_new = out_of_fold(x, items, np.ones(len(items), bool), args.c)
    for scored, mask in (("earlier items", ~new), ("new items", new)):
        print(f"held-out {scored}, trained without the new shards: {row(items, without, mask)}")
        print(f"held-out {scored}, trained with them:              {row(items, with_new, mask)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
