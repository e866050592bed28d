"""Does the watch learn from the team? F1 after an analyst's judgements vs the day-one watch.

    python -m benchmarks.feedback_replay --part test            # the figures that count
    python -m benchmarks.feedback_replay --part train --sweep   # choose the parameters here

The part's items are replayed in published order against each day-one watch of
benchmarks/watches.dayone.yaml. During the first ``JUDGED_SHARE`` of the stream an analyst
judges every alert (relevant or not, by the corpus labels) and every relevant article the
watch missed; each judgement is applied right after its article, through the product's own
hook (feedback/examples.py, what `Matcher.match` consults). F1 is counted on the rest of the
stream, with and without the judgements. Matching is the product's (`Matcher.match_articles`,
every gate); the articles are encoded once and the hook (the one `Matcher.match` consults in
`backtest --feedback` and the service) applied per article, so the stream is not encoded
again after every judgement. Figures: docs/feedback.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.corpus_eval import DEFAULT_LABELS, Counts, load_part, load_watches, to_article
from wirewatch import defaults
from wirewatch.backtest import LabelSpec, parse_label_spec, parse_published
from wirewatch.feedback.examples import (
    DEFAULT_CORRECTION,
    Example,
    FeedbackExamples,
    detector_margin,
)
from wirewatch.feedback.refit import training_of, training_path
from wirewatch.models import ArticleEncoding, WatchMatch
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import DATA_PATH, describe_provenance
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer

ROOT = Path(__file__).resolve().parents[1]
WATCHES = ROOT / "benchmarks" / "watches.dayone.yaml"
JUDGED_SHARE = 0.30
RELEVANT = [0.85, 0.90, 0.95, 0.98]
NOT_RELEVANT = [0.70, 0.80, 0.90]
MARGINS = [0.02, 0.05, 0.10]


@dataclass
class Replay:
    watch: str
    before: Counts  # the day-one watch on the evaluated 70 %
    after: Counts  # ... with the analyst's judgements of the first 30 %
    judgements: int


class Judging:
    """The matcher's feedback hook as it stands once the team has judged something: the
    English model then reads every article's lead (``rules/reading.needs_lead``), which judged
    articles are compared by; the hook itself changes no decision (the replay applies the
    judgements, in published order)."""

    def __len__(self) -> int:
        return 1

    def adjust(self, watch: Any, encoding: ArticleEncoding, match: WatchMatch) -> WatchMatch:
        return match


@dataclass(frozen=True)
class Params:
    """FeedbackExamples' parameters (defaults.FEEDBACK_*)."""

    relevant_similarity: float = defaults.FEEDBACK_RELEVANT_SIMILARITY
    not_relevant_similarity: float = defaults.FEEDBACK_NOT_RELEVANT_SIMILARITY
    margin: float = defaults.FEEDBACK_NEIGHBOUR_MARGIN
    correction: dict[str, Any] | None = field(default_factory=lambda: dict(DEFAULT_CORRECTION))

    def __str__(self) -> str:
        correction = dict(self.correction or {"off": ""})
        if correction.get("kind") == "refit":  # the defaults it runs with, spelled out
            correction.setdefault("weight", defaults.FEEDBACK_REFIT_WEIGHT)
            correction.setdefault("promotes", defaults.FEEDBACK_REFIT_PROMOTES)
            vote = correction.pop("vote", {} if defaults.FEEDBACK_REFIT_VOTE else None)
            if vote is not None:
                correction["then the vote"] = (
                    f"width {vote.get('width', defaults.FEEDBACK_VOTE_WIDTH)} weight "
                    f"{vote.get('weight', defaults.FEEDBACK_VOTE_WEIGHT)} prior "
                    f"{vote.get('prior', defaults.FEEDBACK_VOTE_PRIOR)}, drops only"
                )
        if self.correction is not None and correction.get("near", "default") == "default":
            correction["near"] = (
                f"similarity {defaults.FEEDBACK_NEAR_SIMILARITY} margin "
                f"{defaults.FEEDBACK_NEAR_MARGIN}"
                if defaults.FEEDBACK_NEAR
                else None
            )
        threshold = correction.pop("threshold", "default")
        if threshold == "default":
            prior = defaults.FEEDBACK_THRESHOLD_PRIOR
            threshold = None if prior is None else {"prior": prior}
        if threshold is not None and self.correction is not None:
            promotes = threshold.get("promotes", defaults.FEEDBACK_THRESHOLD_PROMOTES)
            correction["own threshold"] = (
                f"prior {threshold['prior']}, {'both ways' if promotes else 'raises only'}"
            )
        options = ", ".join(f"{k} {v}" for k, v in correction.items())
        return (
            f"relevant {self.relevant_similarity:.2f}, not relevant "
            f"{self.not_relevant_similarity:.2f}, margin {self.margin:.2f}; detector "
            f"correction: {options.strip()}"
        )


NO_FEEDBACK = Params(2.0, 2.0, 0.0, None)  # no neighbour is ever that close, no correction


def example(
    item: dict[str, Any], relevant: bool, number: int, prepared: Any, encoding: Any, detectors: Any
) -> Example:
    """The judged item as the service's learner makes it (feedback/learner.py)."""
    vector = np.asarray(encoding.vectors[0], dtype=np.float32)
    margin = detector_margin(prepared, encoding.events, detectors)
    features, kinds = encoding.event_features, encoding.event_kinds
    return Example(str(item["id"]), relevant, number, vector, features, kinds, margin)


def replay_watch(
    prepared: Any,
    spec: LabelSpec,
    items: Sequence[dict[str, Any]],
    encodings: Sequence[ArticleEncoding],
    decisions: Sequence[WatchMatch],
    params: Params,
    detectors: Any = None,
) -> Replay:
    cut = int(len(items) * JUDGED_SHARE)
    examples: list[Example] = []
    options = vars(params)
    events = {prepared.name: prepared.event}
    hook = FeedbackExamples(**options)
    before, after = Counts(), Counts()
    for index, (item, encoding, match) in enumerate(zip(items, encodings, decisions, strict=True)):
        decided = hook.adjust(prepared, encoding, match)
        relevant = spec.expects(item)
        if index >= cut:
            before.add(match.matched, relevant)
            after.add(decided.matched, relevant)
        elif decided.matched or relevant:  # the analyst judges every alert and every miss
            number = len(examples) + 1
            examples.append(example(item, relevant, number, prepared, encoding, detectors))
            judged = {prepared.name: list(examples)}
            hook = FeedbackExamples(judged, detectors=detectors, events=events, **options)
    return Replay(prepared.name, before, after, len(examples))


def run_all(
    matcher: Matcher,
    specs: dict[str, LabelSpec],
    items: Sequence[dict[str, Any]],
    results: Sequence[tuple[ArticleEncoding, list[WatchMatch]]],
    params: Params,
) -> list[Replay]:
    encodings = [encoding for encoding, _ in results]
    replays = []
    for prepared in matcher.prepared:
        decisions = [next(m for m in matches if m.watch == prepared.name) for _, matches in results]
        spec = specs[prepared.name]
        replays.append(
            replay_watch(prepared, spec, items, encodings, decisions, params, matcher.detectors)
        )
    return replays


def report(replays: Sequence[Replay], params: Params) -> None:
    print(f"similarity needed: {params}; judged: the first {JUDGED_SHARE:.0%} of each stream\n")
    print(f"{'watch':32} {'judged':>6}  day-one P R F1 tp/fp/fn     with feedback")
    for r in replays:
        gain = 100 * (r.after.f1 - r.before.f1)
        print(f"{r.watch:32} {r.judgements:6}  {r.before.row()}  {r.after.row()}  {gain:+.1f}")
    before = sum(r.before.f1 for r in replays) / len(replays)
    after = sum(r.after.f1 for r in replays) / len(replays)
    gain = 100 * (after - before)
    print(f"{'macro F1':32} {'':6}  {before:17.3f}{'':13}{after:17.3f}{'':13}  {gain:+.1f}")


def sweep(matcher, specs, items, results) -> None:
    print("sweep (F1 per watch on the evaluated part of the stream, macro mean):")
    f1s = [r.before.f1 for r in run_all(matcher, specs, items, results, NO_FEEDBACK)]
    print(
        f"  day-one watches: {'  '.join(f'{f:.2f}' for f in f1s)}   mean {sum(f1s) / len(f1s):.3f}"
    )
    best: tuple[float, Params] = (0.0, NO_FEEDBACK)
    for relevant, not_relevant, margin in itertools.product(RELEVANT, NOT_RELEVANT, MARGINS):
        params = Params(relevant, not_relevant, margin)
        f1s = [r.after.f1 for r in run_all(matcher, specs, items, results, params)]
        mean = sum(f1s) / len(f1s)
        best = max(best, (mean, params), key=lambda b: b[0])
        print(f"  {params}: {'  '.join(f'{f:.2f}' for f in f1s)}   mean {mean:.3f}")
    print(f"best: {best[1]} (macro F1 {best[0]:.3f})")


def describe_adaptation(detectors: Any) -> str:
    """Which detectors decided, and how a judged detector watch adapts."""
    if detectors is None:
        return "no learned detectors: watches learn by near copies only"
    near = (
        f"its judged articles as neighbours (cosine {defaults.FEEDBACK_NEAR_SIMILARITY}, "
        f"detector margin at most {defaults.FEEDBACK_NEAR_MARGIN})"
        if defaults.FEEDBACK_NEAR
        else None
    )
    if defaults.FEEDBACK_CORRECTION == "none":
        adapts = near or "near copies only"
        return f"detectors: {describe_provenance(detectors)}; a judged watch adapts by {adapts}"
    if defaults.FEEDBACK_CORRECTION != "refit":
        own = "" if defaults.FEEDBACK_THRESHOLD_PRIOR is None else "its own threshold, then "
        adapts = f"a judged watch adapts by {own}the vote" + (f", then {near}" if near else "")
        return f"detectors: {describe_provenance(detectors)}; {adapts}"
    training = training_of(detectors)
    refit = (
        f"a judged watch refits its head on {training_path(DATA_PATH).name} "
        f"({len(training.classes)} items)"
        if training is not None
        else f"no training set for this head ({training_path(DATA_PATH).name} missing or "
        "stale: python -m benchmarks.train_detectors --training-only): the vote only"
    )
    return f"detectors: {describe_provenance(detectors)}; {refit}" + (
        f", then {near}" if near else ""
    )


def decide(
    matcher: Matcher, items: Sequence[dict[str, Any]], cache: Path | None
) -> list[tuple[ArticleEncoding, list[WatchMatch]]]:
    """The day-one decisions (encodings included), from the cache when it has them."""
    if cache is not None and cache.exists():
        matcher.prepare()
        return pickle.loads(cache.read_bytes())
    results = asyncio.run(matcher.match_articles([to_article(i) for i in items]))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(results))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["train", "test"], default="test")
    parser.add_argument("--config", type=Path, default=WATCHES)
    parser.add_argument("--sweep", action="store_true", help="parameter sweep (train only)")
    parser.add_argument("--relevant-similarity", type=float, default=Params.relevant_similarity)
    parser.add_argument(
        "--not-relevant-similarity", type=float, default=Params.not_relevant_similarity
    )
    parser.add_argument("--margin", type=float, default=Params.margin)
    parser.add_argument("--no-correction", action="store_true", help="near copies only")
    parser.add_argument("--cache", type=Path, help="keep the day-one decisions in this folder")
    args = parser.parse_args(argv)
    if args.sweep and args.part == "test":
        parser.error("no sweep on the frozen test part: use --part train")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items = sorted(load_part(args.part), key=lambda i: parse_published(str(i["published"])))
    watches = load_watches(args.config)
    gazetteer = Gazetteer.load()
    specs = {
        w.name: parse_label_spec(f"{w.name}={DEFAULT_LABELS[w.name]}", gazetteer) for w in watches
    }
    matcher = Matcher(watches, Encoder(defaults.MODEL_NAME), gazetteer, feedback=Judging())
    try:
        results = decide(matcher, items, args.cache and args.cache / f"{args.part}.pickle")
    finally:
        matcher.close()
    print(f"{len(items)} items of the {args.part} part, in published order")
    print(describe_adaptation(matcher.detectors) + "\n")
    if args.sweep:
        sweep(matcher, specs, items, results)
    else:
        params = Params(args.relevant_similarity, args.not_relevant_similarity, args.margin)
        if args.no_correction:
            params = Params(
                params.relevant_similarity, params.not_relevant_similarity, params.margin, None
            )
        report(run_all(matcher, specs, items, results, params), params)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
