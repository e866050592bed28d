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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from wirewatch.models import Article
from wirewatch.pipeline import ArticleOutcome, Pipeline
from wirewatch.store import Store

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
    pipeline: Pipeline, items: Sequence[dict[str, Any]]
) -> dict[str, ArticleOutcome]:
    """Process the items in published order (stable for equal times); outcomes by article id."""
    ordered = sorted(items, key=lambda item: item["_published"])
    outcomes: dict[str, ArticleOutcome] = {}
    for start in range(0, len(ordered), BATCH):
        batch = [to_article(item) for item in ordered[start : start + BATCH]]
        for outcome in await pipeline.process(batch):
            outcomes[outcome.article.id] = outcome
    return outcomes


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
