"""Read queries for the dashboard: each page's rows in a fixed number of queries.

Every function takes the database (anything with `execute(sql, params)`) and returns plain
records; none runs a query per row. Regions and places are stored as JSON lists, so a region
filter matches the JSON-encoded name inside the list (portable SQL: `LIKE`, no json_each).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from wirewatch.store.db import from_iso, iso


class Readable(Protocol):
    def execute(self, sql: str, params: Any = ()) -> Any: ...


@dataclass
class StoryRow:
    """One line of the stories page."""

    id: str
    num: int
    watch: str
    title: str
    first_seen: datetime
    last_seen: datetime
    regions: list[str]
    places: list[str]
    sources: int
    outlets: int
    best_score: float

    @property
    def sources_per_hour(self) -> float:
        """Sources over the story's span so far, counted as at least one hour."""
        hours = max((self.last_seen - self.first_seen).total_seconds() / 3600.0, 1.0)
        return self.sources / hours


@dataclass
class StoryFilter:
    watch: str | None = None
    region: str | None = None
    since: datetime | None = None  # last update at or after this
    limit: int = 50
    before_num: int | None = None  # the next page: stories older than this one


def story_rows(db: Readable, where: StoryFilter) -> list[StoryRow]:
    """The stories page: newest activity first, with outlets counted in the same query."""
    clauses, params = _story_clauses(where)
    sql = (
        "SELECT s.num, s.id, s.watch, s.title, s.first_seen, s.last_seen, s.regions, s.places,"
        " s.members, s.best_score,"
        " (SELECT COUNT(DISTINCT ss.outlet) FROM story_sources ss WHERE ss.story_id = s.id)"
        " AS outlets FROM stories s"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY s.last_seen DESC, s.num DESC LIMIT ?"
    )
    rows = db.execute(sql, (*params, where.limit)).fetchall()
    return [_story_row(r) for r in rows]


def _story_clauses(where: StoryFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.watch:
        clauses.append("s.watch = ?")
        params.append(where.watch)
    if where.region:
        clauses.append("(s.regions LIKE ? ESCAPE '\\' OR s.places LIKE ? ESCAPE '\\')")
        pattern = "%" + _like_escape(json.dumps(where.region)) + "%"
        params += [pattern, pattern]
    if where.since is not None:
        clauses.append("s.last_seen >= ?")
        params.append(iso(where.since))
    if where.before_num is not None:
        clauses.append("s.num < ?")
        params.append(where.before_num)
    return clauses, params


def _like_escape(text: str) -> str:
    """LIKE's wildcards in a name match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _story_row(r: Any) -> StoryRow:
    return StoryRow(
        id=r["id"],
        num=r["num"],
        watch=r["watch"],
        title=r["title"],
        first_seen=from_iso(r["first_seen"]),
        last_seen=from_iso(r["last_seen"]),
        regions=json.loads(r["regions"]),
        places=json.loads(r["places"]),
        sources=r["members"],
        outlets=r["outlets"],
        best_score=r["best_score"],
    )


def story_filters(db: Readable) -> dict[str, list[str]]:
    """The watches and regions stories exist for (the filter's choices)."""
    watches = [r[0] for r in db.execute("SELECT DISTINCT watch FROM stories ORDER BY watch")]
    regions: set[str] = set()
    for (text,) in db.execute("SELECT DISTINCT regions FROM stories"):
        regions.update(json.loads(text))
    return {"watches": watches, "regions": sorted(regions)}


@dataclass
class SourceRow:
    article_id: str
    outlet: str
    url: str | None
    title: str
    published: datetime
    score: float
    evidence: str
    joined_by: str
    reason: str = ""  # the watch's recorded decision on this article
    threshold: float | None = None


@dataclass
class StoryDetail:
    story: StoryRow
    sources: list[SourceRow]
    deliveries: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    silences: list[dict[str, Any]] = field(default_factory=list)
    judgements: list[dict[str, Any]] = field(default_factory=list)  # newest first

    @property
    def headline(self) -> SourceRow | None:
        """The source whose title the story carries, else the first: the article Slack's
        buttons judge (as `notifiers/slack.headline_source`)."""
        return next(
            (s for s in self.sources if s.title == self.story.title),
            self.sources[0] if self.sources else None,
        )

    def verdicts(self) -> dict[str, dict[str, Any]]:
        """Each judged source's latest active judgement, by article id."""
        latest: dict[str, dict[str, Any]] = {}
        for judgement in reversed(self.judgements):  # oldest first: the newest wins
            if judgement["undone_at"] is None:
                latest[judgement["article_id"]] = judgement
        return latest


def story_detail(db: Readable, story_id: str) -> StoryDetail | None:
    """A story with its sources (and each one's recorded decision), deliveries, the
    decisions log about it, the silences that name it and the team's judgements of its
    sources for its watch: six queries."""
    row = db.execute(
        "SELECT s.*, (SELECT COUNT(DISTINCT ss.outlet) FROM story_sources ss"
        " WHERE ss.story_id = s.id) AS outlets FROM stories s WHERE s.id = ?",
        (story_id,),
    ).fetchone()
    if row is None:
        return None
    story = _story_row(row)
    sources = [
        SourceRow(
            article_id=r["article_id"],
            outlet=r["outlet"],
            url=r["url"],
            title=r["title"],
            published=from_iso(r["published"]),
            score=r["score"],
            evidence=r["evidence"],
            joined_by=r["joined_by"],
            reason=r["reason"] or "",
            threshold=r["threshold"],
        )
        for r in db.execute(
            "SELECT ss.article_id, ss.outlet, ss.url, ss.title, ss.published, ss.score,"
            " ss.evidence, ss.joined_by, m.reason, m.threshold FROM story_sources ss"
            " LEFT JOIN matches m ON m.article_id = ss.article_id AND m.watch = ?"
            " WHERE ss.story_id = ? ORDER BY ss.published, ss.rowid",
            (story.watch, story_id),
        )
    ]
    deliveries = [
        {**dict(r), "articles": len(json.loads(r["article_ids"]))}
        for r in db.execute(
            "SELECT delivery_id, notifier, kind, status, attempts, article_ids, created_at,"
            " next_attempt_at, delivered_at, last_error FROM outbox WHERE story_id = ?"
            " ORDER BY seq",
            (story_id,),
        )
    ]
    decisions = [
        dict(r)
        for r in db.execute(
            "SELECT at, watch, article_id, notifier, decision, reason FROM decisions"
            " WHERE story_id = ? ORDER BY seq",
            (story_id,),
        )
    ]
    silences = [
        dict(r)
        for r in db.execute(
            "SELECT * FROM silences WHERE story_id = ? OR watch = ? ORDER BY id",
            (story_id, story.watch),
        )
    ]
    judgements = [
        dict(r)
        for r in db.execute(
            JUDGEMENT_COLUMNS + " WHERE j.watch = ? AND (j.story_id = ? OR j.article_id IN"
            " (SELECT ss.article_id FROM story_sources ss WHERE ss.story_id = ?))"
            " ORDER BY j.id DESC",
            (story.watch, story_id, story_id),
        )
    ]
    return StoryDetail(story, sources, deliveries, decisions, silences, judgements)


JUDGEMENT_COLUMNS = (
    "SELECT j.id, j.at, j.who, j.source, j.watch, j.article_id, j.url, j.story_id, j.relevant,"
    " j.note, j.undone_at, j.undone_by, a.title FROM judgements j"
    " LEFT JOIN articles a ON a.id = j.article_id"
)


@dataclass
class WatchFeedback:
    """The team's judgements of one watch: over the articles it matched (its alerts), the
    latest active judgement of each; the relevant ones it missed; the recent judgements."""

    judged: int  # matched articles judged
    relevant: int  # ... of which judged relevant
    missed_relevant: int  # articles it did not match, judged relevant (missed reports)
    recent: list[dict[str, Any]]  # newest first, undone ones included

    @property
    def precision(self) -> float | None:
        return self.relevant / self.judged if self.judged else None


def watch_feedback(db: Readable, watch: str, limit: int) -> WatchFeedback:
    """Precision from the team's judgements and the recent judgements: two queries."""
    counts = db.execute(
        "SELECT COUNT(CASE WHEN m.matched = 1 THEN 1 END),"
        " COUNT(CASE WHEN m.matched = 1 AND j.relevant = 1 THEN 1 END),"
        " COUNT(CASE WHEN COALESCE(m.matched, 0) = 0 AND j.relevant = 1 THEN 1 END)"
        " FROM (SELECT article_id, MAX(id) AS id FROM judgements"
        " WHERE watch = ? AND undone_at IS NULL GROUP BY article_id) latest"
        " JOIN judgements j ON j.id = latest.id"
        " LEFT JOIN matches m ON m.article_id = j.article_id AND m.watch = j.watch",
        (watch,),
    ).fetchone()
    recent = db.execute(JUDGEMENT_COLUMNS + " WHERE j.watch = ? ORDER BY j.id DESC LIMIT ?",
                        (watch, limit))  # fmt: skip
    return WatchFeedback(int(counts[0]), int(counts[1]), int(counts[2]), [dict(r) for r in recent])


def outlet_health(db: Readable) -> dict[str, dict[str, Any]]:
    """Each polled outlet's fetch state, by name, with its articles stored: two queries."""
    states = {r["outlet"]: dict(r) for r in db.execute("SELECT * FROM fetch_state")}
    for r in db.execute(
        "SELECT outlet, COUNT(*) AS articles, MAX(published) AS latest FROM articles"
        " GROUP BY outlet"
    ):
        states.setdefault(r["outlet"], {"outlet": r["outlet"]}).update(
            articles=r["articles"], latest=r["latest"]
        )
    return states


def deliveries(db: Readable, status: str, limit: int) -> list[dict[str, Any]]:
    """Deliveries of one status, newest first, with their story's title and watch."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT o.delivery_id, o.notifier, o.story_id, o.kind, o.status, o.attempts,"
            " o.next_attempt_at, o.created_at, o.delivered_at, o.last_error,"
            " s.title, s.watch FROM outbox o LEFT JOIN stories s ON s.id = o.story_id"
            " WHERE o.status = ? ORDER BY o.seq DESC LIMIT ?",
            (status, limit),
        )
    ]


def delivery_counts(db: Readable) -> dict[str, int]:
    rows = db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    return {"pending": 0, "delivered": 0, "dead": 0, **{r[0]: r[1] for r in rows}}


def silences(db: Readable) -> list[dict[str, Any]]:
    """Every silence, newest first, with the title of the story it names."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT si.*, s.title FROM silences si LEFT JOIN stories s ON s.id = si.story_id"
            " ORDER BY si.id DESC"
        )
    ]


def watch_decisions(
    db: Readable, watch: str, *, limit: int, near_margin: float
) -> dict[str, list[dict[str, Any]]]:
    """A watch's recent decisions (matched or not) and its near misses: the articles scored
    within `near_margin` under the threshold, best first. Two queries."""
    columns = (
        "SELECT m.article_id, m.matched, m.score, m.threshold, m.evidence, m.reason,"
        " m.story_id, m.excluded_by, a.title, a.outlet, a.url, a.published"
        " FROM matches m JOIN articles a ON a.id = m.article_id WHERE m.watch = ?"
    )
    recent = db.execute(columns + " ORDER BY a.published DESC LIMIT ?", (watch, limit))
    near = db.execute(
        columns + " AND m.matched = 0 AND m.score >= m.threshold - ?"
        " ORDER BY a.published DESC LIMIT ?",
        (watch, near_margin, limit),
    )
    return {"recent": [dict(r) for r in recent], "near_misses": [dict(r) for r in near]}


def article(db: Readable, article_id: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT id, outlet, url, title, text, published, language, text_source FROM articles"
        " WHERE id = ?",
        (article_id,),
    ).fetchone()
    return dict(row) if row else None


def articles_since(db: Readable, since: datetime, limit: int) -> list[dict[str, Any]]:
    """Stored articles published since `since`, newest first, at most `limit`."""
    return [
        dict(r)
        for r in db.execute(
            "SELECT id, outlet, url, title, text, published, language, text_source FROM articles"
            " WHERE published >= ? ORDER BY published DESC LIMIT ?",
            (iso(since), limit),
        )
    ]
