"""Precision, recall and F1 of the example watches on a labeled corpus, with a threshold sweep.

    python -m benchmarks.corpus_eval [--corpus DIR] [--config FILE] [--label WATCH=FIELD]

An item is relevant to a watch when its label is true (``coordinated_attack`` for watches
about attacks, ``internet_shutdown`` for shutdowns; ``--label`` overrides) and the item's
``country``/``admin1`` lie inside one of the watch's regions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import yaml

from wirewatch import defaults
from wirewatch.models import Article, ArticleEncoding
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.gazetteer import Gazetteer, Region
from wirewatch.rules.matcher import Matcher, PreparedWatch, region_evidence

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "watches.example.yaml"
LABEL_KEYWORDS = (
    ("shutdown", "internet_shutdown"),
    ("internet", "internet_shutdown"),
    ("coordinated", "coordinated_attack"),
    ("attack", "coordinated_attack"),
)
SWEEP = [round(x, 2) for x in np.arange(0.30, 0.71, 0.02)]


@dataclass
class Outcome:
    """One watch on one item: what the matcher computed and what the labels say."""

    score: float
    excluded: bool
    in_region: bool
    relevant: bool

    def predicted(self, threshold: float) -> bool:
        return self.score >= threshold and not self.excluded and self.in_region


def load_items(folder: Path) -> list[dict[str, Any]]:
    items = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            items += [json.loads(line) for line in fh if line.strip()]
    return items


def load_watches(path: Path) -> list[SimpleNamespace]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    keys = ("topic", "description", "examples", "exclude", "regions", "threshold", "notify")
    return [
        SimpleNamespace(**{"exclude_threshold": None, **{k: None for k in keys}, **w})
        for w in data.get("watches", [])
    ]


def to_article(item: dict[str, Any]) -> Article:
    published = datetime.fromisoformat(str(item["published"])[:10]).replace(tzinfo=UTC)
    return Article(
        str(item["id"]),
        str(item.get("outlet") or "corpus"),
        item["title"],
        item["text"],
        published,
        text_source="corpus",
    )


def label_field(watch: Any, overrides: dict[str, str]) -> str:
    if watch.name in overrides:
        return overrides[watch.name]
    words = f"{watch.name} {watch.topic or ''}".lower()
    return next((f for k, f in LABEL_KEYWORDS if k in words), "coordinated_attack")


def item_in_regions(item: dict[str, Any], regions: Sequence[Region], gazetteer: Gazetteer) -> bool:
    if not regions:
        return True
    admin1 = gazetteer.resolve_region(item["admin1"]) if item.get("admin1") else None
    for region in regions:
        if item.get("country") != region.country:
            continue
        if region.kind == "country":
            return True
        if admin1 is not None and admin1.admin1 == region.admin1:
            return True
    return False


def outcomes(
    matcher: Matcher,
    items: list[dict[str, Any]],
    encodings: list[ArticleEncoding],
    watch: PreparedWatch,
    field_name: str,
) -> list[Outcome]:
    out = []
    for item, encoding in zip(items, encodings, strict=True):
        scored = matcher.score(watch, encoding)
        out.append(
            Outcome(
                score=scored.score,
                excluded=matcher.excluded(watch, scored, encoding),
                in_region=not watch.regions
                or bool(region_evidence(watch.regions, encoding.places)[0]),
                relevant=bool(item["labels"].get(field_name))
                and item_in_regions(item, watch.regions, matcher.gazetteer),
            )
        )
    return out


def prf(results: list[Outcome], threshold: float) -> tuple[float, float, float, int, int, int]:
    tp = sum(r.predicted(threshold) and r.relevant for r in results)
    fp = sum(r.predicted(threshold) and not r.relevant for r in results)
    fn = sum(not r.predicted(threshold) and r.relevant for r in results)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp, fp, fn


def report(per_watch: dict[str, list[Outcome]], thresholds: dict[str, float]) -> str:
    lines = ["watch                          thr    P     R     F1   tp  fp  fn"]
    for name, results in per_watch.items():
        p, r, f, tp, fp, fn = prf(results, thresholds[name])
        lines.append(
            f"{name:30} {thresholds[name]:.2f}  {p:.2f}  {r:.2f}  {f:.2f}  {tp:3} {fp:3} {fn:3}"
        )
    lines += ["", "threshold sweep (F1 per watch, macro mean):"]
    best = (0.0, 0.0)
    for t in SWEEP:
        f1s = [prf(results, t)[2] for results in per_watch.values()]
        mean = sum(f1s) / len(f1s)
        best = max(best, (mean, t))
        lines.append(f"  {t:.2f}  " + "  ".join(f"{f:.2f}" for f in f1s) + f"   mean {mean:.3f}")
    lines.append(
        f"best shared threshold: {best[1]:.2f} (macro F1 {best[0]:.3f}); "
        f"defaults.WATCH_THRESHOLD = {defaults.WATCH_THRESHOLD}"
    )
    return "\n".join(lines)


def evaluate(
    matcher: Matcher,
    items: list[dict[str, Any]],
    encodings: list[ArticleEncoding],
    overrides: dict[str, str],
) -> dict[str, list[Outcome]]:
    fields = {w.name: label_field(w, overrides) for w in matcher.watches}
    return {
        w.name: outcomes(matcher, items, encodings, w, fields[w.name]) for w in matcher.prepared
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--label", action="append", default=[], metavar="WATCH=FIELD")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items = load_items(args.corpus)
    if not items:
        parser.error(f"no *.jsonl items under {args.corpus}")
    watches = load_watches(args.config)
    matcher = Matcher(watches, Encoder(defaults.MODEL_NAME), Gazetteer.load())
    try:
        matcher.prepare()
        encodings = asyncio.run(matcher.encode_articles([to_article(i) for i in items]))
    finally:
        matcher.close()
    per_watch = evaluate(matcher, items, encodings, dict(a.split("=", 1) for a in args.label))
    thresholds = {w.name: w.threshold for w in matcher.prepared}
    print(f"{len(items)} items from {args.corpus}")
    print(report(per_watch, thresholds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
