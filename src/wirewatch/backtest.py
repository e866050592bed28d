"""`wirewatch backtest`: stored articles through the same pipeline as `run`, in published order.

No network and no notifying: alerts are decided and recorded in a throw-away
store, never delivered. The output is one JSON line per input article (in input
order); the summary shows per watch how many articles fired and how many stories
they made, and, when the corpus carries `event_id`s, how well stories match events.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wirewatch.models import Article, PlaceHit
from wirewatch.pipeline import ArticleOutcome, Pipeline
from wirewatch.store import Store

if TYPE_CHECKING:
    from wirewatch.feedback.replay import ReplayFeedback
    from wirewatch.rules.places import Gazetteer

BATCH = 256


class CorpusError(ValueError):
    pass


def parse_published(value: str) -> datetime:
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def read_corpus(path: Path) -> list[dict[str, Any]]:
    items = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                for key in ("id", "title", "text", "published"):
                    if key not in item:
                        raise CorpusError(f"missing field {key!r}")
                item["_published"] = parse_published(str(item["published"]))
            except (ValueError, CorpusError) as exc:
                raise CorpusError(f"{path}:{number}: {exc}") from None
            items.append(item)
    return items


def to_article(item: dict[str, Any]) -> Article:
    return Article(
        id=str(item["id"]),
        outlet=str(item.get("outlet") or "corpus"),
        title=str(item["title"]),
        text=str(item["text"]),
        published=item["_published"],
        url=item.get("url"),
        language=item.get("language"),
        text_source="corpus",
    )


async def run_backtest(
    pipeline: Pipeline,
    items: Sequence[dict[str, Any]],
    feedback: ReplayFeedback | None = None,
) -> dict[str, ArticleOutcome]:
    """Process the items in published order (stable for equal times); outcomes by article id.

    With ``feedback``, a batch ends at each judged article, and its judgements are applied
    before the next article is decided (`backtest --feedback`).
    """
    ordered = sorted(items, key=lambda item: item["_published"])
    outcomes: dict[str, ArticleOutcome] = {}
    for batch in _batches([to_article(item) for item in ordered], feedback):
        for outcome in await pipeline.process(batch):
            outcomes[outcome.article.id] = outcome
        if feedback is not None:
            await feedback.after(batch[-1].id, pipeline.matcher)
    return outcomes


def _batches(articles: list[Article], feedback: ReplayFeedback | None) -> Iterable[list[Article]]:
    batch: list[Article] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= BATCH or (feedback is not None and feedback.judges(article.id)):
            yield batch
            batch = []
    if batch:
        yield batch


def output_line(item: dict[str, Any], outcome: ArticleOutcome | None) -> dict[str, Any]:
    matches = []
    for match in outcome.matches if outcome else []:
        decision = outcome.stories.get(match.watch)
        if not match.matched or decision is None:
            continue
        matches.append(
            {
                "watch": match.watch,
                "score": round(match.score, 4),
                "story": decision.story_id,
                "new_story": decision.new_story,
                "regions": match.regions,
                "places": match.places,
                "evidence": match.evidence,
            }
        )
    line: dict[str, Any] = {"id": item["id"], "matches": matches}
    if outcome and outcome.duplicate_of:
        line["duplicate_of"] = outcome.duplicate_of
    return line


@dataclass
class WatchSummary:
    watch: str
    articles: int
    stories: int
    events: int | None  # distinct event_ids among the articles that fired
    bcubed_precision: float | None
    bcubed_recall: float | None

    @property
    def alerts_per_event(self) -> float | None:
        return self.stories / self.events if self.events else None


def bcubed(clusters: dict[str, str], truth: dict[str, str]) -> tuple[float, float]:
    """B-cubed precision and recall of predicted clusters against true ones (same keys)."""
    by_cluster: dict[str, set[str]] = defaultdict(set)
    by_truth: dict[str, set[str]] = defaultdict(set)
    for key, cluster in clusters.items():
        by_cluster[cluster].add(key)
        by_truth[truth[key]].add(key)
    precision = recall = 0.0
    for key in clusters:
        both = len(by_cluster[clusters[key]] & by_truth[truth[key]])
        precision += both / len(by_cluster[clusters[key]])
        recall += both / len(by_truth[truth[key]])
    return precision / len(clusters), recall / len(clusters)


def summarise(
    watches: Iterable[str], items: Sequence[dict[str, Any]], outcomes: dict[str, ArticleOutcome]
) -> list[WatchSummary]:
    has_events = any(item.get("event_id") for item in items)
    summaries = []
    for watch in watches:
        stories: dict[str, str] = {}
        events: dict[str, str] = {}
        for item in items:
            outcome = outcomes.get(str(item["id"]))
            decision = outcome.stories.get(watch) if outcome else None
            if decision is None:
                continue
            stories[item["id"]] = decision.story_id
            events[item["id"]] = item.get("event_id") or f"unlabelled:{item['id']}"
        precision = recall = None
        if has_events and stories:
            precision, recall = bcubed(stories, events)
        summaries.append(
            WatchSummary(
                watch=watch,
                articles=len(stories),
                stories=len(set(stories.values())),
                events=len(set(events.values())) if has_events else None,
                bcubed_precision=precision,
                bcubed_recall=recall,
            )
        )
    return summaries


def print_summary(summaries: Sequence[WatchSummary], total: int, out: TextIO) -> None:
    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    out.write(f"backtest: {total} articles\n")
    header = ("watch", "articles", "stories", "events", "alerts/event", "B3-prec", "B3-recall")
    rows = [
        (
            s.watch,
            str(s.articles),
            str(s.stories),
            "-" if s.events is None else str(s.events),
            fmt(s.alerts_per_event),
            fmt(s.bcubed_precision),
            fmt(s.bcubed_recall),
        )
        for s in summaries
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + "\n")


def temporary_store() -> tuple[Store, tempfile.TemporaryDirectory]:
    folder = tempfile.TemporaryDirectory(prefix="wirewatch-backtest-")
    return Store(Path(folder.name) / "backtest.db"), folder


# ---- precision and recall against labels (`--labels WATCH=LABEL[@REGION]`) -------------------
@dataclass(frozen=True)
class LabelSpec:
    """Which corpus label says a watch should fire: `labels[label]` and, if given, the region."""

    watch: str
    label: str
    region: str | None = None  # ISO country code ("PK") or first-level region ("Balochistan")
    # with a gazetteer: whether an item's country/admin1 lie inside the region ("@Sahel")
    inside: Callable[[dict[str, Any]], bool] | None = field(default=None, compare=False)

    def expects(self, item: dict[str, Any]) -> bool:
        if not (item.get("labels") or {}).get(self.label):
            return False
        if self.region is None:
            return True
        if self.inside is not None:
            return self.inside(item)
        wanted = self.region.casefold()
        return wanted in {str(item.get("country") or "").casefold(), _admin1(item)}


def _admin1(item: dict[str, Any]) -> str:
    name = str(item.get("admin1") or "").casefold()
    return {"baluchistan": "balochistan"}.get(name, name)


def parse_label_spec(text: str, gazetteer: Gazetteer | None = None) -> LabelSpec:
    """`balochistan-attacks=coordinated_attack@Balochistan` → LabelSpec.

    With a gazetteer, REGION means what it means in `regions:` (a country by name or code, a
    province, a group such as the Sahel) and an item is inside it by its `country` and
    `admin1`; without one, or for a district or town, REGION must equal one of the two.
    Several regions are separated by `|` (`@Mali|Niger|Burkina Faso`): inside any of them.
    """
    watch, sep, rest = text.partition("=")
    if not sep or not watch or not rest:
        raise ValueError(f"--labels {text!r}: expected WATCH=LABEL or WATCH=LABEL@REGION")
    label, _, region = rest.partition("@")
    region = region.strip()
    inside = _inside_any(gazetteer, region, text) if gazetteer and region else None
    return LabelSpec(watch.strip(), label.strip(), region or None, inside)


def _inside_any(
    gazetteer: Gazetteer, regions: str, spec: str
) -> Callable[[dict[str, Any]], bool] | None:
    tests = [_inside_test(gazetteer, name.strip(), spec) for name in regions.split("|")]
    if len(tests) == 1:
        return tests[0]
    if any(test is None for test in tests):
        raise ValueError(f"--labels {spec!r}: several regions must be countries or provinces")
    return lambda item: any(test(item) for test in tests if test is not None)


def _inside_test(
    gazetteer: Gazetteer, name: str, spec: str
) -> Callable[[dict[str, Any]], bool] | None:
    region = gazetteer.resolve_region(name)
    if region is None:
        raise ValueError(f"--labels {spec!r}: {gazetteer.unknown_region(name)}")
    if region.kind not in ("country", "admin1", "group"):
        return None  # items say no more than country and admin1: compare the names

    def inside(item: dict[str, Any]) -> bool:
        country = str(item.get("country") or "").upper()
        admin1 = str(item.get("admin1") or "")
        province = gazetteer.resolve_region(f"{admin1}, {country}") if admin1 and country else None
        canonical = province.admin1 if province is not None and province.kind == "admin1" else None
        where = canonical or admin1 or country
        return region.contains(PlaceHit(where, where, country, canonical or admin1 or None, True))

    return inside


@dataclass
class LabelReport:
    spec: LabelSpec
    true_positives: list[tuple[str, float]]
    false_positives: list[tuple[str, float]]  # (item id, score)
    false_negatives: list[tuple[str, float]]

    @property
    def precision(self) -> float:
        fired = len(self.true_positives) + len(self.false_positives)
        return len(self.true_positives) / fired if fired else 1.0

    @property
    def recall(self) -> float:
        wanted = len(self.true_positives) + len(self.false_negatives)
        return len(self.true_positives) / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def watch_verdict(
    watch: str, item_id: str, outcomes: dict[str, ArticleOutcome]
) -> tuple[bool, float]:
    """Did the watch fire on this item, and with what score? A duplicate takes its original's."""
    outcome = outcomes.get(item_id)
    if outcome is not None and outcome.duplicate_of:
        outcome = outcomes.get(outcome.duplicate_of, outcome)
    if outcome is None:
        return False, 0.0
    match = next((m for m in outcome.matches if m.watch == watch), None)
    return (bool(match and match.matched), match.score if match else 0.0)


def evaluate_labels(
    specs: Sequence[LabelSpec],
    items: Sequence[dict[str, Any]],
    outcomes: dict[str, ArticleOutcome],
) -> list[LabelReport]:
    reports = []
    for spec in specs:
        report = LabelReport(spec, [], [], [])
        for item in items:
            fired, score = watch_verdict(spec.watch, str(item["id"]), outcomes)
            expected = spec.expects(item)
            if fired and expected:
                report.true_positives.append((str(item["id"]), score))
            elif fired:
                report.false_positives.append((str(item["id"]), score))
            elif expected:
                report.false_negatives.append((str(item["id"]), score))
        reports.append(report)
    return reports


def _title(item: dict[str, Any]) -> str:
    """The title, tagged with the language when it is not English: "[fr] Burkina : …"."""
    language = str(item.get("language") or "").lower()
    tag = f"[{language}] " if language and not language.startswith("en") else ""
    return tag + str(item["title"])


def print_label_reports(
    reports: Sequence[LabelReport], items: Sequence[dict[str, Any]], out: TextIO
) -> None:
    titles = {str(item["id"]): _title(item) for item in items}
    names = [
        f"{r.spec.watch} = {r.spec.label}" + (f"@{r.spec.region}" if r.spec.region else "")
        for r in reports
    ]
    width = max([len("watch vs labels"), *map(len, names)])
    out.write(f"\n{'watch vs labels':{width}}  precision  recall  F1     TP  FP  FN\n")
    for r, name in zip(reports, names, strict=True):
        out.write(
            f"{name:{width}} {r.precision:10.2f}  {r.recall:6.2f}  {r.f1:.2f}  "
            f"{len(r.true_positives):3} {len(r.false_positives):3} {len(r.false_negatives):3}\n"
        )
    for r in reports:
        for kind, rows in (("false positive", r.false_positives), ("missed", r.false_negatives)):
            for item_id, score in sorted(rows, key=lambda row: -row[1]):
                out.write(f"  {r.spec.watch}: {kind} {item_id} ({score:.2f}) {titles[item_id]}\n")
