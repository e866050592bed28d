"""What each matching rule adds: every watch decided again with one rule off at a time.

    python -m benchmarks.ablation --part train [--cache FILE] [--only NAME,NAME]
    python -m benchmarks.ablation --part test      # the lead, once, after merging

Each rule or fitted constant of the matcher is a named switch (``SWITCHES``): a field of
``wirewatch.rules.settings.Rules`` set off or to a neutral value (the default threshold, a
user's knob with no neutral value, is tried at 0.35 and 0.45 on the watches that set
none). The articles are encoded
once, as the product encodes them (``Matcher.encode_articles``, the English model reading
every passage, the detectors every lead); each watch set is then decided under the shipped
rules and under each switch by the product's own decision path (``Matcher.reread``: what
that matcher's English model would have read, then ``Matcher.match``, every gate included),
for the day-one watches (benchmarks/watches.dayone.yaml) and the example watches
(config/watches.example.yaml, with examples and exclude phrases). It prints, per watch
set, the macro F1 and each watch's F1 with every rule on and with each switch off, and how
many decisions (article, watch) the switch changed; then one markdown table of the macro
F1 changes for docs/matching.md ("What each rule adds").

``--cache FILE`` keeps the encodings (about 1 GB for the training part) so that a rerun
only decides; ``--show NAME`` lists the decisions a switch changes (not on the test part:
nobody looks at its items); ``--decisions FILE`` writes the shipped decisions, to compare
two versions item by item.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.corpus_eval import (
    DEFAULT_LABELS,
    ROOT,
    Counts,
    load_items,
    load_part,
    load_watches,
    to_article,
)
from wirewatch import defaults
from wirewatch.backtest import LabelSpec, parse_label_spec
from wirewatch.config.schema import WatchConfig
from wirewatch.models import Article, ArticleEncoding
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import EventDetectors
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.settings import SHIPPED

WATCH_SETS = {
    "day-one": ROOT / "benchmarks" / "watches.dayone.yaml",
    "example": ROOT / "config" / "watches.example.yaml",
}


@dataclass(frozen=True)
class Switch:
    name: str
    rule: str  # what the rule does when on
    off: dict[str, Any]  # the fields of ``Rules`` that turn it off
    threshold: float | None = None  # else: the threshold of the watches that set none

    def watches(self, watches: Sequence[WatchConfig]) -> list[WatchConfig]:
        """The watches as this switch decides them."""
        if self.threshold is None:
            return list(watches)
        return [
            w
            if "threshold" in w.model_fields_set
            else w.model_copy(update={"threshold": self.threshold})
            for w in watches
        ]


SWITCHES = [
    Switch("lead-weight", "score: half lead, half max(lead, best sentence)", {"lead_weight": 0.0}),
    Switch("token-weight", "similarity: half cosine, half late interaction", {"token_weight": 0.0}),
    Switch("watch-threshold-0.35", "default threshold 0.40, here 0.35", {}, 0.35),
    Switch("watch-threshold-0.45", "default threshold 0.40, here 0.45", {}, 0.45),
    Switch(
        "exclude-headline-words",
        "headline has a phrase's distinguishing word, within 0.08",
        {"exclude_word_margin": None},
    ),
    Switch(
        "exclude-opening-words",
        "headline and first sentence have them, within 0.3",
        {"exclude_opening_margin": None},
    ),
    Switch(
        "exclude-sentences",
        "a sentence closer to a phrase is no evidence",
        {"exclude_sentences": False},
    ),
    Switch(
        "headline-clauses",
        "only the headline's clauses on the subject",
        {"headline_clauses": False},
    ),
    Switch("common-words", "frequent English words never distinguish", {"common_words": False}),
    Switch(
        "distinct-word-similarity",
        "a word within 0.5 of a watch token does not distinguish",
        {"distinct_word_similarity": float("inf")},
    ),
    Switch("opinion-labels", "'Editorial: ...' headlines are opinion", {"opinion_labels": False}),
    Switch("opinion-paths", "/opinion/, /letters/ ... are opinion", {"opinion_paths": False}),
    Switch(
        "second-event-sentence",
        "the detectors read the best sentence past the lead",
        {"second_event_sentence": False},
    ),
    Switch(
        "second-event-after-other",
        "... its best one when the lead reports another kind of event",
        {"second_event_after_other": False},
    ),
    Switch(
        "second-event-other-kind",
        "... and only when the lead reports another kind of event",
        {"second_event_other_kind": False},
    ),
    Switch("specific-floor", "a specific watch's similarity must agree", {"specific_floor": False}),
    Switch("region-gate", "a watch with regions needs a place inside one", {"region_gate": False}),
    Switch("lead-places", "the lead's places in the main country decide", {"lead_places": False}),
    Switch(
        "body-says-where",
        "the body's too, when the lead names only the country",
        {"body_says_where": False},
    ),
    Switch(
        "sentence-screen", "sentences read when a detector reads >= 0.05", {"sentence_screen": 0.0}
    ),
    Switch("latin-only", "sentences read only in Latin-script articles", {"latin_only": False}),
]


@dataclass
class Outcome:
    """One watch set decided under one set of rules."""

    f1: dict[str, float]  # per watch
    matched: list[dict[str, bool]]  # per item: watch -> matched

    @property
    def macro(self) -> float:
        return sum(self.f1.values()) / len(self.f1)

    def changed(self, other: Outcome) -> int:
        return sum(
            a[w] != b[w] for a, b in zip(self.matched, other.matched, strict=True) for w in a
        )


def corpus_key(items: Sequence[dict[str, Any]]) -> str:
    """What the encodings depend on: the items' text and the models' names."""
    digest = hashlib.sha256(f"{defaults.MODEL_NAME}|{defaults.LEAD_ENCODER_WORDS}".encode())
    for item in items:
        fields = [str(item.get(k) or "") for k in ("id", "title", "text", "url")]
        digest.update("\x00".join(fields).encode())
    return digest.hexdigest()


def encode_once(
    items: Sequence[dict[str, Any]], matcher: Matcher, cache: Path | None
) -> list[ArticleEncoding]:
    """Every article encoded once, the English model reading every passage (cached)."""
    key = corpus_key(items)
    if cache is not None and cache.exists():
        with cache.open("rb") as file:
            stored = pickle.load(file)
        if stored.get("key") == key:
            return stored["encodings"]
        print(f"{cache}: made for other items, encoding again")
    started = time.process_time()
    reader = Matcher(
        matcher.watches, matcher.encoder, matcher.gazetteer, matcher.detectors, every_sentence=True
    )
    encodings = asyncio.run(reader.encode_articles([to_article(i) for i in items]))
    print(f"encoded {len(items)} items in {time.process_time() - started:.0f} CPU-seconds")
    if cache is not None:
        with cache.open("wb") as file:
            pickle.dump({"key": key, "encodings": encodings}, file, protocol=5)
    return encodings


def decide(
    matcher: Matcher,
    articles: Sequence[Article],
    encodings: Sequence[ArticleEncoding],
    relevant: Sequence[dict[str, bool]],
    tables: Tables,
) -> Outcome:
    """The product's decisions by ``matcher`` (its watches, its rules), scored."""
    matcher.prepare()
    watches = matcher.watches
    counts = {w.name: Counts() for w in watches}
    matched = []
    for index, (article, full, truth) in enumerate(zip(articles, encodings, relevant, strict=True)):
        encoding = matcher.reread(article, full)
        table = tables.of(matcher, index, full)[: len(encoding.vectors)]
        decided = {m.watch: m.matched for m in matcher.match(article, encoding, table)}
        for name, hit in decided.items():
            counts[name].add(hit, truth[name])
        matched.append(decided)
    return Outcome({name: c.f1 for name, c in counts.items()}, matched)


class Tables:
    """Each article's similarity table, every passage to every reference, computed once per
    weighting: the rules switched off change the decision, not the similarities (only
    ``token-weight`` does); a reading's table is the first rows of the full one."""

    def __init__(self) -> None:
        self._tables: dict[tuple[float, int], np.ndarray] = {}

    def of(self, matcher: Matcher, index: int, full: ArticleEncoding) -> np.ndarray:
        key = (matcher.rules.token_weight, index)
        if key not in self._tables:
            self._tables[key] = matcher.similarity_table(full)
        return self._tables[key]


def switched(shipped: Matcher, switch: Switch) -> Matcher:
    """The shipped matcher with ``switch`` off (prepared again only for another threshold)."""
    rules = replace(SHIPPED, **switch.off)
    if switch.threshold is None:
        return shipped.with_rules(rules)
    watches = switch.watches(shipped.watches)
    return Matcher(watches, shipped.encoder, shipped.gazetteer, shipped.detectors, rules=rules)


def delta(off: float, on: float) -> str:
    return f"{off:.3f} ({off - on:+.3f})" if abs(off - on) >= 5e-4 else f"{off:.3f}"


def print_set(name: str, shipped: Outcome, outcomes: dict[str, Outcome]) -> None:
    watches = list(shipped.f1)
    print(f"\n### {name} watches: F1 with every rule on, and with each switch off\n")
    print("| switch off | macro F1 | " + " | ".join(watches) + " | decisions changed |")
    print("| --- " * (len(watches) + 3) + "|")
    cells = [f"{shipped.f1[w]:.3f}" for w in watches]
    print(f"| none (shipped) | {shipped.macro:.3f} | " + " | ".join(cells) + " | |")
    for switch, outcome in outcomes.items():
        cells = [delta(outcome.f1[w], shipped.f1[w]) for w in watches]
        macro = delta(outcome.macro, shipped.macro)
        print(f"| {switch} | {macro} | " + " | ".join(cells) + f" | {outcome.changed(shipped)} |")


def print_summary(part: str, sets: dict[str, tuple[Outcome, dict[str, Outcome]]]) -> None:
    """One row per switch: the macro F1 change it makes in each watch set (docs/matching.md)."""
    print(
        f"\n### What each rule adds, {part} part: macro F1 with it on − off (decisions changed)\n"
    )
    names = list(sets)
    print("| rule (switch) | what it does | " + " | ".join(f"{n} watches" for n in names) + " |")
    print("| --- " * (len(names) + 2) + "|")
    on = " | ".join(f"{sets[n][0].macro:.3f}" for n in names)
    print(f"| all on (shipped macro F1) | | {on} |")
    for switch in SWITCHES:
        if switch.name not in sets[names[0]][1]:
            continue
        cells = []
        for n in names:
            shipped, outcomes = sets[n]
            off = outcomes[switch.name]
            cells.append(f"{shipped.macro - off.macro:+.3f} ({off.changed(shipped)})")
        print(f"| {switch.name} | {switch.rule} | " + " | ".join(cells) + " |")


def show_changes(
    switch: str,
    items: Sequence[dict[str, Any]],
    shipped: Outcome,
    off: Outcome,
    relevant: Sequence[dict[str, bool]],
) -> None:
    for item, on, was, truth in zip(items, shipped.matched, off.matched, relevant, strict=True):
        for watch in on:
            if on[watch] != was[watch]:
                print(
                    f"  {switch}: {item['id']} {watch}: on {on[watch]}, off {was[watch]}, "
                    f"relevant {truth[watch]}: {item['title'][:90]}"
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["train", "test"], help="the repository corpus's part")
    parser.add_argument("--corpus", type=Path, help="a folder of labeled *.jsonl instead")
    parser.add_argument("--cache", type=Path, help="keep the encodings in this file")
    parser.add_argument("--only", help="comma-separated switches (default: all)")
    parser.add_argument("--sets", default="day-one,example", help="watch sets to decide")
    parser.add_argument(
        "--show", action="append", default=[], metavar="SWITCH", help="list what it changes"
    )
    parser.add_argument(
        "--decisions", type=Path, help="write the shipped decisions (set -> id -> watches) here"
    )
    args = parser.parse_args(argv)
    if (args.part is None) == (args.corpus is None):
        parser.error("give one of --part and --corpus")
    if args.show and args.part == "test":
        parser.error("--show lists items: not on the frozen test part")
    known = {s.name: s for s in SWITCHES}
    chosen = args.only.split(",") if args.only else list(known)
    unknown = [n for n in chosen + args.show if n not in known]
    sets = args.sets.split(",")
    if unknown or any(s not in WATCH_SETS for s in sets):
        parser.error(f"unknown switch or set: {unknown or sets}; switches: {', '.join(known)}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    items = load_part(args.part) if args.part else load_items(args.corpus)
    if not items:
        parser.error("no items")
    gazetteer = Gazetteer.load()
    all_watches = {name: load_watches(WATCH_SETS[name]) for name in sets}
    # the encoder, gazetteer and detectors every decision shares
    base = Matcher(
        all_watches[sets[0]], Encoder(defaults.MODEL_NAME), gazetteer, EventDetectors.load()
    )
    try:
        encodings = encode_once(items, base, args.cache)
        articles = [to_article(i) for i in items]
        started = time.process_time()
        results = {}
        for name, watches in all_watches.items():
            specs = label_specs(watches, gazetteer)
            relevant = [{w.name: specs[w.name].expects(i) for w in watches} for i in items]
            shipped_matcher = Matcher(watches, base.encoder, gazetteer, base.detectors)
            tables = Tables()  # this watch set's
            shipped = decide(shipped_matcher, articles, encodings, relevant, tables)
            outcomes = {}
            for switch in chosen:
                matcher = switched(shipped_matcher, known[switch])
                outcomes[switch] = decide(matcher, articles, encodings, relevant, tables)
                if switch in args.show:
                    show_changes(switch, items, shipped, outcomes[switch], relevant)
            results[name] = (shipped, outcomes)
            print_set(name, shipped, outcomes)
    finally:
        base.close()
    if args.decisions:
        args.decisions.write_text(json.dumps(shipped_decisions(items, results), sort_keys=True))
    print(f"\n{len(items)} items; decided in {time.process_time() - started:.0f} CPU-seconds")
    print_summary(args.part or str(args.corpus), results)
    return 0


def shipped_decisions(
    items: Sequence[dict[str, Any]], results: dict[str, tuple[Outcome, dict[str, Outcome]]]
) -> dict[str, dict[str, list[str]]]:
    """Per watch set, each item's matched watches under the shipped rules."""
    return {
        name: {
            i["id"]: sorted(w for w, hit in decided.items() if hit)
            for i, decided in zip(items, shipped.matched, strict=True)
        }
        for name, (shipped, _) in results.items()
    }


def label_specs(watches: Sequence[WatchConfig], gazetteer: Gazetteer) -> dict[str, LabelSpec]:
    return {
        w.name: parse_label_spec(f"{w.name}={DEFAULT_LABELS[w.name]}", gazetteer) for w in watches
    }


if __name__ == "__main__":
    raise SystemExit(main())
