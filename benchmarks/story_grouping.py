"""How well stories group reports of one event: the corpus replayed through the real
StoryAssigner, scored against its ``event_id``.

    python -m benchmarks.story_grouping --part train [--cache FILE]
    python -m benchmarks.story_grouping --part train --sweep      # choose the thresholds
    python -m benchmarks.story_grouping --part test --vector story  # once, when chosen

For each label (attack, coordinated_attack, internet_shutdown) one watch whose matches are
exactly the items carrying that label (grouping is measured apart from detection), replayed
in ``published`` order (then id) into a fresh store through ``StoryAssigner.assign`` with the
real places of the gazetteer. Two grouping vectors (``--vector``, default both):

- ``lead``: the English model's (MiniLM) vector of the lead passage, as before issue 16;
- ``story``: rules/leads.py ``story_vector``, from the detectors' multilingual pass.

The corpus's events are years apart: within one watch's 48-hour window there are few
reports of other events, so grouping everything by place alone would look precise. A
monitored stream is denser; ``--fold-days N`` replays it so: every event moves to day
(its first report's date mod N) of one N-day stretch, its reports keeping their distance
from the first, so about (events of the watch / N) other events share each day.

Scored per vector, all watches together: pairwise precision and recall (pairs of items of
one watch placed in one story, against pairs of one event), their F1; the same over pairs of
items in two different languages; B-cubed precision / recall; and the share of events with
several reports in a watch that were split into several stories. ``--sweep`` chooses the
four thresholds (``STORY_SIMILARITY*``) for the B-cubed F1 (with ``--fold-days``, its mean
over the stream as published and folded), one at a time over a grid, twice round; it
refuses the test part.
"""

from __future__ import annotations

import argparse
import itertools
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from datasketch import MinHash

from benchmarks.corpus_eval import load_part, to_article
from wirewatch import defaults
from wirewatch.models import ArticleEncoding, PlaceHit, WatchMatch
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.leads import STORY_VECTOR_MODEL, LeadEncoder, reading, story_vector
from wirewatch.rules.passages import split_passages
from wirewatch.rules.places import Gazetteer
from wirewatch.store import Store
from wirewatch.stories.assigner import StoryAssigner, Thresholds, article_sketch

LABELS = ("attack", "coordinated_attack", "internet_shutdown")
NAMES = ("similarity", "same_place", "same_day", "same_day_place")
GRIDS = {  # where each model's cosines between reports of one event lie
    "lead": [round(0.30 + 0.025 * k, 4) for k in range(21)],  # 0.30 … 0.80
    "story": [round(0.75 + 0.0125 * k, 4) for k in range(21)],  # 0.75 … 1.0
}


@dataclass
class Encoded:
    """What the assigner reads of one item, for both vectors."""

    lead: np.ndarray  # MiniLM, the lead passage
    story: np.ndarray  # rules/leads.py story_vector
    places: list[PlaceHit]
    sketch: MinHash  # what copies are found by


@dataclass
class Score:
    pairs: tuple[int, int, int]  # together and same event, together, same event
    cross: tuple[int, int, int]  # the same over pairs in two languages
    bcubed: tuple[float, float]
    split: tuple[int, int]  # events split in several stories, events with several reports

    @staticmethod
    def f1(counts: tuple[int, int, int]) -> tuple[float, float, float]:
        hit, together, same = counts
        p = hit / together if together else 1.0
        r = hit / same if same else 1.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0

    @property
    def bcubed_f1(self) -> float:
        p, r = self.bcubed
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self) -> str:
        p, r, f = self.f1(self.pairs)
        cp, cr, cf = self.f1(self.cross)
        (bp, br), bf = self.bcubed, self.bcubed_f1
        return (
            f"pairs P/R/F1 {p:.3f} / {r:.3f} / {f:.3f} ({self.pairs[2]} pairs of one event); "
            f"cross-language {cp:.3f} / {cr:.3f} / {cf:.3f} ({self.cross[2]}); "
            f"B-cubed {bp:.3f} / {br:.3f} / {bf:.3f}; "
            f"events split {self.split[0]} of {self.split[1]} "
            f"({self.split[0] / max(self.split[1], 1):.0%})"
        )


def encode(items: Sequence[dict[str, Any]], cache: Path | None) -> dict[str, Encoded]:
    """Both vectors and the places of every item (vectors kept in ``cache`` by item id)."""
    known: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if cache is not None and cache.exists():
        stored = np.load(cache)
        known = {
            i: (lead, x)
            for i, lead, x in zip(stored["ids"], stored["lead"], stored["x"], strict=True)
        }
    missing = [i for i in items if i["id"] not in known]
    if missing:
        print(f"encoding {len(missing)} items (both models, one thread)")
        features = LeadEncoder().features([reading(i["title"], i["text"]) for i in missing])
        leads = Encoder(defaults.MODEL_NAME).encode(
            [split_passages(i["title"], i["text"])[0] for i in missing]
        )
        known.update(
            {i["id"]: (lead, x) for i, lead, x in zip(missing, leads, features, strict=True)}
        )
        if cache is not None:
            ids = sorted(known)
            np.savez(
                cache,
                ids=np.array(ids),
                lead=np.stack([known[i][0] for i in ids]),
                x=np.stack([known[i][1][:768] for i in ids]),
            )
    gazetteer = Gazetteer.load()
    return {
        i["id"]: Encoded(
            known[i["id"]][0],
            story_vector(known[i["id"]][1]),
            gazetteer.find_places(i["title"], i["text"]),
            article_sketch(to_article(i)),
        )
        for i in items
    }


def published(items: Sequence[dict[str, Any]], fold: int) -> dict[str, datetime]:
    """When each item comes, as published, or with its event moved into ``fold`` days."""
    dates = {i["id"]: to_article(i).published for i in items}
    if not fold:
        return dates
    first: dict[str, datetime] = {}
    for i in items:
        first[i["event_id"]] = min(first.get(i["event_id"], dates[i["id"]]), dates[i["id"]])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        i["id"]: start
        + timedelta(days=first[i["event_id"]].toordinal() % fold)
        + (dates[i["id"]] - first[i["event_id"]])
        for i in items
    }


def replay(
    items: Sequence[dict[str, Any]],
    encoded: dict[str, Encoded],
    vector: str,
    thresholds: dict[str, float],
    fold: int = 0,
) -> dict[str, dict[str, str]]:
    """Per label, item id -> the story the assigner put it in."""
    when = published(items, fold)
    stories: dict[str, dict[str, str]] = {}
    store = Store(":memory:")
    try:
        if vector == "story":
            assigner = StoryAssigner(store, **thresholds)
        else:
            assigner = StoryAssigner(store, english=Thresholds(**thresholds))
        for label in LABELS:
            watch = SimpleNamespace(name=label, story_window=defaults.STORY_WINDOW_S)
            chosen = sorted(
                (i for i in items if i["labels"].get(label)),
                key=lambda i: (when[i["id"]], i["id"]),
            )
            stories[label] = {}
            with store.transaction():
                for item in chosen:
                    stories[label][item["id"]] = assign(
                        assigner, watch, item, encoded[item["id"]], vector, when[item["id"]]
                    )
    finally:
        store.close()
    return stories


def assign(
    assigner: StoryAssigner, watch: Any, item: dict, enc: Encoded, vector: str, when: datetime
) -> str:
    article = to_article(item)
    article.published = when
    encoding = ArticleEncoding([item["title"]], enc.lead[None, :], enc.places)
    if vector == "story":
        encoding.story_vector, encoding.story_model = enc.story, STORY_VECTOR_MODEL
    else:
        encoding.english_model = defaults.MODEL_NAME
    match = WatchMatch(watch.name, True, 1.0, 0.5, item["title"])
    return assigner.assign(watch, article, encoding, match, enc.sketch).story_id


def score(items: Sequence[dict[str, Any]], stories: dict[str, dict[str, str]]) -> Score:
    by_id = {i["id"]: i for i in items}
    pairs = {"all": [0, 0, 0], "cross": [0, 0, 0]}  # together and one event, together, one
    precision: list[float] = []
    recall: list[float] = []
    split = events = 0
    for placed in stories.values():
        ids = sorted(placed)
        for a, b in itertools.combinations(ids, 2):
            joined = placed[a] == placed[b]
            one = by_id[a]["event_id"] == by_id[b]["event_id"]
            kinds = ["all"] + (["cross"] if by_id[a]["language"] != by_id[b]["language"] else [])
            for kind in kinds:
                pairs[kind] = [
                    n + d for n, d in zip(pairs[kind], (joined and one, joined, one), strict=True)
                ]
        members: dict[str, set[str]] = defaultdict(set)
        of_event: dict[str, set[str]] = defaultdict(set)
        for i in ids:
            members[placed[i]].add(i)
            of_event[by_id[i]["event_id"]].add(i)
        for i in ids:
            mine, event = members[placed[i]], of_event[by_id[i]["event_id"]]
            precision.append(len(mine & event) / len(mine))
            recall.append(len(mine & event) / len(event))
        for reports in of_event.values():
            if len(reports) > 1:
                events += 1
                split += len({placed[i] for i in reports}) > 1
    return Score(
        tuple(pairs["all"]),  # type: ignore[arg-type]
        tuple(pairs["cross"]),  # type: ignore[arg-type]
        (float(np.mean(precision)), float(np.mean(recall))),
        (split, events),
    )


def sweep(items, encoded, vector: str, start: dict[str, float], fold: int) -> dict[str, float]:
    """Each threshold in turn over the vector's grid for the B-cubed F1 (with ``fold``: the
    mean of the stream's as published and folded into ``fold`` days), the others held; twice
    round."""

    def f1(thresholds: dict[str, float]) -> float:
        replays = [replay(items, encoded, vector, thresholds, f) for f in {0, fold}]
        return float(np.mean([score(items, placed).bcubed_f1 for placed in replays]))

    best, best_f1 = dict(start), f1(start)
    for _round, name in itertools.product(range(2), NAMES):
        for value in GRIDS[vector]:
            trial = {**best, name: value}
            if (value_f1 := f1(trial)) > best_f1 + 1e-9:
                best, best_f1 = trial, value_f1
        print(f"  {name}: {best[name]:.3f} (B-cubed F1 {best_f1:.3f})", flush=True)
    return best


def defaults_now(vector: str) -> dict[str, float]:
    """The shipped thresholds of ``vector``."""
    if vector == "lead":
        return dict(zip(NAMES, defaults.STORY_SIMILARITY_ENGLISH, strict=True))
    return {
        "similarity": defaults.STORY_SIMILARITY,
        "same_place": defaults.STORY_SIMILARITY_SAME_PLACE,
        "same_day": defaults.STORY_SIMILARITY_SAME_DAY,
        "same_day_place": defaults.STORY_SIMILARITY_SAME_DAY_PLACE,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["train", "test"], default="train")
    parser.add_argument("--vector", choices=["lead", "story", "both"], default="both")
    parser.add_argument("--cache", type=Path, help="keep the items' vectors in this .npz")
    parser.add_argument("--sweep", action="store_true", help="choose the thresholds (train)")
    parser.add_argument("--fold-days", type=int, default=0, help="a denser stream (see above)")
    for name in NAMES:
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, help="a threshold")
    args = parser.parse_args(argv)
    if args.sweep and args.part == "test":
        parser.error("no sweep on the frozen test part: use --part train")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items = load_part(args.part)
    encoded = encode(items, args.cache)
    given = {n: getattr(args, n) for n in NAMES if getattr(args, n) is not None}
    for vector in ["lead", "story"] if args.vector == "both" else [args.vector]:
        thresholds = {**defaults_now(vector), **given}
        if args.sweep:
            print(f"{vector}: sweeping from {thresholds}")
            thresholds = sweep(items, encoded, vector, thresholds, args.fold_days)
        shown = ", ".join(f"{n} {v:.3f}" for n, v in thresholds.items())
        print(f"{vector} ({shown}):")
        for fold in dict.fromkeys([0, args.fold_days]):
            placed = replay(items, encoded, vector, thresholds, fold)
            print(f"  {f'folded into {fold} days' if fold else 'as published'}: ", end="")
            print(score(items, placed).line(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
