"""Where the day-one watches go wrong, by cause: out-of-fold decisions of the training part.

    python -m benchmarks.error_causes [--cache DIR] [--list WATCH]

Every training item is decided once by the product's matcher with detectors that never saw
it: 5 folds grouped by event (train_detectors' first GroupKFold split), per fold the
detectors built again on the other four folds as benchmarks/feedback_cv.py builds them
(``fold_detectors``: the head, every second reading, the shipped thresholds), the held-out
fold read by them as the product reads an article and decided by ``Matcher.match`` for the
day-one watches (benchmarks/watches.dayone.yaml), every gate included, after
``Matcher.reread`` (what the English model would have read of it with these detectors).
The places are found again by the current gazetteer, so a change in rules/places/ is
measured without encoding anything again.

Each false alarm and miss of each watch is put down to one cause, in this order:

- **opinion**: the opinion gate dropped a relevant report;
- **detector**: the item's label is not what the decision says. A false alarm on an item
  without the watch's label, by the decision path that fired (``lead``: the detectors'
  reading of the lead; ``sentence``: the second-event sentence, the watch's best sentence
  past the lead; ``after-other``: the same when the lead reports another kind of event;
  ``similarity``: an unbound watch) and the item's near-miss kind (``single attack`` for an
  attack under a coordinated watch, ``other`` for none); a miss the detectors did not fire;
- **region**: the label is right and the region gate decided wrong. A miss: ``no place``
  (the gazetteer found none), ``another country leads`` (a place of the labeled country is
  found but the lead's or a more salient country decides), ``not found`` (no place of the
  labeled country), ``country only`` (the right country, no province), ``right admin1 only
  in the body``, ``labeled town in another admin1`` (a town or district the item labels
  resolved to another province: the gazetteer's resolution) or ``admin1's places not
  found`` (none of the labeled province's places found; another province decides); a false
  alarm: ``labeled without an admin1`` (a report of the watched country that the item does
  not put in one province: several, or none named) or ``a place inside decides, labeled
  elsewhere``.

Every cause is counted in English and in other languages; ``near threshold`` counts the
detector errors whose probability lies within 0.05 of the threshold (what a threshold
could change). ``--cache DIR`` keeps the encodings of the training part (the English model
reading every passage: about 13 CPU-minutes, 1.3 GB; benchmarks/ablation.py's cache file,
``encodings.pickle``, can be linked in) and the detectors' inputs (train_detectors' cache:
``e5_train.npz``, ``e5_train.terms.npz``). ``--list WATCH`` prints the items of each cause
of one watch. The frozen test part is never read. Figures: docs/matching.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import given_attack
from benchmarks.ablation import WATCH_SETS, encode_once, label_specs
from benchmarks.corpus_eval import Counts, load_part, load_watches, to_article
from benchmarks.feedback_cv import CachedLeads, fold_detectors
from benchmarks.train_detectors import FOLDS, features, splits, training_items
from wirewatch import defaults
from wirewatch.backtest import LabelSpec
from wirewatch.models import ArticleEncoding, PlaceHit, WatchMatch
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import DATA_PATH, EventDetectors
from wirewatch.rules.matcher import OPINION, Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.places.names import fold
from wirewatch.rules.region_gate import deciding_places
from wirewatch.rules.settings import SHIPPED, Rules

NEAR_THRESHOLD = 0.05


class FoldLeads(CachedLeads):
    """feedback_cv's cached lead encoder, passing on what it does not cache (a watch's text,
    read when a fold's detectors bind it)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.encoder, name)


@dataclass(frozen=True)
class Error:
    """One wrong decision of one watch on one item."""

    watch: str
    item: str
    alarm: bool  # a false alarm (else a miss)
    cause: str  # "detector: ...", "region: ...", "opinion"
    english: bool
    near_threshold: bool = False
    probability: float | None = None  # the watch's detector on the lead
    event: str = ""  # the item's event (one event is often told by several items)


def decision_path(matcher: Matcher, watch_name: str, encoding: ArticleEncoding, match: WatchMatch):
    """Which path made a matched watch fire: lead, sentence, after-other or similarity."""
    watch = next(w for w in matcher.prepared if w.name == watch_name)
    if watch.event is None or encoding.events is None or encoding.opinion:
        return "similarity"
    if encoding.events[watch.event] >= matcher.detectors.threshold(watch.event):
        return "lead"
    scored = matcher.score(watch, encoding, matcher.similarity_table(encoding))
    return "sentence" if scored.best >= encoding.leads else "after-other"


def near_miss(item: dict[str, Any], label: str) -> str:
    """What an item without ``label`` is: its near-miss kind, a single attack, or other."""
    if item.get("kind"):
        return str(item["kind"])
    labels = item.get("labels") or {}
    if label == "coordinated_attack" and labels.get("attack"):
        return "single attack"
    true = [k for k, v in labels.items() if v]
    return "+".join(true) if true else "other"


def labeled_names(item: dict[str, Any]) -> set[str]:
    return {fold(str(p)) for p in item.get("places") or []}


def named(hit: PlaceHit, names: set[str]) -> bool:
    """Whether a place found is one the item labels (as written or as resolved)."""
    return fold(hit.name) in names or fold(hit.resolved) in names


def region_miss(item: dict[str, Any], places: list[PlaceHit]) -> str:
    """Why the region gate kept out a relevant report of the right kind."""
    if not places:
        return "no place"
    country = str(item.get("country") or "")
    deciding = deciding_places(places)
    if deciding and deciding[0].country != country:
        if any(p.country == country for p in places):
            return "another country leads"
        return "not found"
    admin1 = fold(str(item.get("admin1") or ""))
    if any(p.admin1 and fold(p.admin1) == admin1 for p in places):
        return "right admin1 only in the body"
    if all(p.admin1 is None for p in deciding):
        return "country only"
    if any(p.local and named(p, labeled_names(item)) for p in deciding):
        return "labeled town in another admin1"
    return "admin1's places not found"


def region_alarm(item: dict[str, Any], match: WatchMatch, places: list[PlaceHit]) -> str:
    """Why the region gate let in a report of the right kind from elsewhere."""
    inside = [p for p in deciding_places(places) if p.resolved in set(match.places)]
    if not item.get("admin1") and any(p.country == item.get("country") for p in inside):
        return "labeled without an admin1"  # several provinces, or none named
    return "a place inside decides, labeled elsewhere"


def cause_of(
    matcher: Matcher,
    spec: LabelSpec,
    item: dict[str, Any],
    encoding: ArticleEncoding,
    match: WatchMatch,
) -> tuple[str, bool]:
    """The cause of one wrong decision, and whether the detector's probability was near its
    threshold (None of that for a region or opinion cause)."""
    labeled = bool((item.get("labels") or {}).get(spec.label))
    watch = next(w for w in matcher.prepared if w.name == match.watch)
    near = (
        watch.event is not None
        and encoding.events is not None
        and abs(encoding.events[watch.event] - matcher.detectors.threshold(watch.event))
        < NEAR_THRESHOLD
    )
    if match.matched:  # a false alarm
        if not labeled:
            path = decision_path(matcher, match.watch, encoding, match)
            return f"detector ({path}): {near_miss(item, spec.label)}", near
        return f"region: {region_alarm(item, match, encoding.places)}", False
    if match.excluded_by == OPINION:
        return "opinion", False
    if match.reason.startswith("detector") or match.reason.startswith("score"):
        if watch.regions and not match.regions:
            return "detector: missed, region too", near
        return "detector: missed", near
    return f"region: {region_miss(item, encoding.places)}", False


@dataclass
class Outcome:
    """The out-of-fold decisions of every watch, summed over the folds."""

    errors: list[Error] = field(default_factory=list)
    counts: dict[str, dict[str, Counts]] = field(default_factory=dict)  # watch -> en/other
    paths: Counter = field(default_factory=Counter)  # (watch, path, relevant) that fired
    leads: list[tuple[str, float, bool, bool]] = field(default_factory=list)  # lead_reading
    thresholds: dict[str, float] = field(default_factory=dict)  # watch -> its detector's


def oof_decisions(args: argparse.Namespace) -> Outcome:
    """Every training item decided once by detectors trained on the other folds."""
    items = load_part("train")
    gazetteer = Gazetteer.load()
    watches = load_watches(WATCH_SETS["day-one"])
    specs = label_specs(watches, gazetteer)
    base = Matcher(watches, Encoder(defaults.MODEL_NAME), gazetteer, EventDetectors.load())
    encodings = {
        i["id"]: e for i, e in zip(items, encode_once(items, base, args.encodings), strict=True)
    }
    by_id = {i["id"]: i for i in items}
    train = training_items()
    x = features(train, 1, args.cache / "e5_train.npz").astype(np.float64)
    terms = given_attack.latent_terms(train, 1, args.cache / "e5_train.npz")
    groups = np.array([i["event_id"] for i in train])
    leads = FoldLeads(train, x, terms, base.detectors.encoder)
    shipped = json.loads(DATA_PATH.read_text(encoding="utf-8"))
    out = Outcome(counts={w.name: {"en": Counts(), "other": Counts()} for w in watches})
    for fold_number, (fitted_on, held) in enumerate(splits(x, groups)[0], start=1):
        started = time.process_time()
        detectors = fold_detectors(
            shipped,
            x[fitted_on],
            terms[fitted_on],
            [train[k] for k in fitted_on],
            args.cache / f"fold{fold_number}",
            leads,
        )
        matcher = Matcher(watches, base.encoder, gazetteer, detectors, rules=args.rules)
        matcher.prepare()
        out.thresholds = {w.name: detectors.threshold(w.event) for w in matcher.prepared if w.event}
        held_items = [by_id[train[k]["id"]] for k in held]
        read = detectors.features_of([(i["title"], i["text"]) for i in held_items])
        events = detectors.probabilities(read)
        kinds = detectors.head.probabilities(read)
        for k, item in enumerate(held_items):
            article = to_article(item)
            full = replace(
                encodings[item["id"]],
                events=events[k],
                event_features=read[k],
                event_kinds=kinds[k],
                places=gazetteer.find_places(item["title"], item["text"]),
            )
            encoding = matcher.reread(article, full)
            english = str(item.get("language") or "en") == "en"
            for match in matcher.match(article, encoding):
                spec = specs[match.watch]
                relevant = spec.expects(item)
                out.counts[match.watch]["en" if english else "other"].add(match.matched, relevant)
                if match.matched:
                    path = decision_path(matcher, match.watch, encoding, match)
                    out.paths[match.watch, path, relevant] += 1
                out.leads.append((match.watch, *lead_reading(matcher, encoding, match), relevant))
                if match.matched != relevant:
                    cause, near = cause_of(matcher, spec, item, encoding, match)
                    watch = next(w for w in matcher.prepared if w.name == match.watch)
                    probability = encoding.events[watch.event] if watch.event else None
                    out.errors.append(
                        Error(
                            match.watch,
                            item["id"],
                            match.matched,
                            cause,
                            english,
                            near,
                            probability,
                            item["event_id"],
                        )
                    )
        seconds = time.process_time() - started
        print(f"fold {fold_number}/{FOLDS}: {len(held)} items, {seconds:.0f} CPU-s", flush=True)
    base.close()
    return out


def lead_reading(
    matcher: Matcher, encoding: ArticleEncoding, match: WatchMatch
) -> tuple[float, bool]:
    """The watch's detector on the lead, and whether every other gate let the article
    through (opinion, exclusion, region): what a threshold alone would decide."""
    watch = next(w for w in matcher.prepared if w.name == match.watch)
    probability = encoding.events[watch.event] if watch.event and encoding.events else 0.0
    gates = match.excluded_by is None and (not watch.regions or bool(match.regions))
    return probability, gates


def threshold_sweep(thresholds: dict[str, float], leads_read: list) -> None:
    """F1 of the lead path alone with the watch's detector threshold moved (the threshold's
    share of the error: a move that gains much says the threshold is off)."""
    names = list(dict.fromkeys(w for w, *_ in leads_read))
    shifts = (-0.1, -0.05, 0.0, 0.05, 0.1)
    print("\nThe lead path alone, F1 with the detector's threshold moved by\n")
    print("| watch | " + " | ".join(f"{s:+.2f}" for s in shifts) + " |")
    print("| --- |" + " --- |" * len(shifts))
    for name in names:
        rows = [(p, g, t) for w, p, g, t in leads_read if w == name]
        cells = []
        for shift in shifts:
            c = Counts()
            for p, gates, truth in rows:
                c.add(gates and p >= thresholds[name] + shift, truth)
            cells.append(f"{c.f1:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def total(per_language: dict[str, Counts]) -> Counts:
    both = Counts()
    for c in per_language.values():
        both.tp, both.fp, both.fn = both.tp + c.tp, both.fp + c.fp, both.fn + c.fn
    return both


def precision_recall(c: Counts) -> str:
    p = c.tp / (c.tp + c.fp) if c.tp + c.fp else 1.0
    r = c.tp / (c.tp + c.fn) if c.tp + c.fn else 1.0
    return f"{p:.2f} / {r:.2f}"


def report(out: Outcome, changed: str) -> None:
    errors, counts, paths = out.errors, out.counts, out.paths
    names = list(counts)
    print(f"\nOut-of-fold day-one decisions of the training part ({FOLDS} folds by event)\n")
    if changed:
        print(f"rules changed: {changed}\n")
    print("| watch | F1 | P / R English | P / R not English | false alarms | misses |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        both = total(counts[name])
        en, other = counts[name]["en"], counts[name]["other"]
        row = f"{both.f1:.3f} | {precision_recall(en)} | {precision_recall(other)}"
        print(f"| {name} | {row} | {both.fp} | {both.fn} |")
    macro = sum(total(c).f1 for c in counts.values()) / len(counts)
    print(f"| macro | {macro:.3f} | | | | |\n")
    short = [n.replace("-attacks", "").replace("-internet-shutdowns", "-shutdowns") for n in names]
    print("Errors by cause: false alarms + misses (of them not in English; near threshold)\n")
    print("| cause | " + " | ".join(short) + " | all |")
    print("| --- |" + " --- |" * (len(names) + 1))
    causes = Counter(e.cause for e in errors)
    for cause, _ in sorted(causes.items(), key=lambda kv: (kv[0].split(":")[0], -kv[1])):
        cells = [cell([e for e in errors if e.cause == cause and e.watch == n]) for n in names]
        print(
            f"| {cause} | "
            + " | ".join(cells)
            + f" | {cell([e for e in errors if e.cause == cause])} |"
        )
    families = Counter(e.cause.split(" ")[0].rstrip(":") for e in errors)
    events = {f: len({e.event for e in errors if e.cause.startswith(f)}) for f in families}
    summary = ", ".join(f"{k} {v} ({events[k]} events)" for k, v in families.most_common())
    print(f"\nBy family: {summary}")
    print("\nDecisions that fired, by path: right / false alarms\n")
    print("| path | " + " | ".join(short) + " |")
    print("| --- |" + " --- |" * len(names))
    for path in ("lead", "sentence", "after-other", "similarity"):
        cells = [f"{paths[n, path, True]} / {paths[n, path, False]}" for n in names]
        print(f"| {path} | " + " | ".join(cells) + " |")
    threshold_sweep(out.thresholds, out.leads)


def cell(errors: list[Error]) -> str:
    if not errors:
        return ""
    alarms = sum(e.alarm for e in errors)
    other = sum(not e.english for e in errors)
    near = sum(e.near_threshold for e in errors)
    extra = f" ({other}" + (f"; {near}" if near else "") + ")"
    return f"{alarms} + {len(errors) - alarms}" + (extra if other or near else "")


def list_items(errors: list[Error], watch: str) -> None:
    items = {i["id"]: i for i in load_part("train")}
    print(f"\n{watch}: the items of each cause")
    for e in sorted((e for e in errors if e.watch == watch), key=lambda e: e.cause):
        item = items[e.item]
        where = f"{item.get('country')}/{item.get('admin1')}"
        kind = "false alarm" if e.alarm else "miss"
        p = "" if e.probability is None else f"{e.probability:.2f}"
        print(
            f"  {e.cause:40} {kind:11} {p:4} {item.get('language')} {where:20} {item['title'][:64]}"
        )


def changed_rules(parser: argparse.ArgumentParser, changes: list[str]) -> Rules:
    """The shipped rules with each FIELD=VALUE of ``--rule`` (VALUE as JSON: true, 0.4)."""
    fields = {f.name for f in dataclass_fields(Rules)}
    updates = {}
    for change in changes:
        name, _, value = change.partition("=")
        if name not in fields:
            parser.error(f"--rule {change}: no such field; fields: {', '.join(sorted(fields))}")
        updates[name] = json.loads(value)
    return replace(SHIPPED, **updates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/wirewatch-error-causes"))
    parser.add_argument("--list", action="append", default=[], metavar="WATCH")
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="decide with a field of rules/settings.py's Rules changed (e.g. to compare)",
    )
    args = parser.parse_args(argv)
    args.rules = changed_rules(parser, args.rule)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.cache.mkdir(parents=True, exist_ok=True)
    args.encodings = args.cache / "encodings.pickle"
    out = oof_decisions(args)
    report(out, ", ".join(args.rule))
    for watch in args.list:
        list_items(out.errors, watch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
