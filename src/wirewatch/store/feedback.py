"""The team's judgements as stored: one row per judgement of one article for one watch.

An undo marks the row (`undone_at`, `undone_by`) instead of deleting it, so the history of
who judged what, and who took it back, stays. `version()` is a cheap fingerprint of the
table that the running service polls to notice judgements made by another process (the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from wirewatch.store.db import Database, from_iso, iso
from wirewatch.util import utcnow

FeedbackSource = Literal["slack", "cli", "dashboard", "backtest"]
SOURCES: tuple[str, ...] = ("slack", "cli", "dashboard", "backtest")


@dataclass(frozen=True)
class Judgement:
    id: int
    at: datetime
    who: str
    source: str
    watch: str
    article_id: str
    url: str | None
    story_id: str | None
    relevant: bool
    note: str | None = None
    undone_at: datetime | None = None
    undone_by: str | None = None

    @property
    def active(self) -> bool:
        return self.undone_at is None


class FeedbackRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        *,
        watch: str,
        article_id: str,
        relevant: bool,
        who: str,
        source: str,
        url: str | None = None,
        story_id: str | None = None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> Judgement:
        if source not in SOURCES:
            raise ValueError(f"unknown feedback source {source!r}")
        cursor = self.db.execute(
            "INSERT INTO judgements (at, who, source, watch, article_id, url, story_id,"
            " relevant, note) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
            (iso(now or utcnow()), who, source, watch, article_id, url, story_id,
             int(relevant), note),
        )  # fmt: skip
        judgement = self.get(int(cursor.fetchone()[0]))
        assert judgement is not None
        return judgement

    def undo(self, judgement_id: int, who: str, now: datetime | None = None) -> bool:
        """Take a judgement back; False when there is no such active judgement."""
        cursor = self.db.execute(
            "UPDATE judgements SET undone_at = ?, undone_by = ? WHERE id = ? AND undone_at IS NULL",
            (iso(now or utcnow()), who, judgement_id),
        )
        return cursor.rowcount > 0

    def get(self, judgement_id: int) -> Judgement | None:
        row = self.db.execute("SELECT * FROM judgements WHERE id = ?", (judgement_id,)).fetchone()
        return _judgement(row) if row else None

    def list(self, *, watch: str | None = None, include_undone: bool = False) -> list[Judgement]:
        """Judgements, oldest first; only active ones unless `include_undone`."""
        query, params = "SELECT * FROM judgements WHERE 1=1", []
        if watch is not None:
            query += " AND watch = ?"
            params.append(watch)
        if not include_undone:
            query += " AND undone_at IS NULL"
        return [_judgement(r) for r in self.db.execute(query + " ORDER BY id", params)]

    def find_article(self, reference: str, canonical_url: str | None = None) -> str | None:
        """The id of the stored article with this id or URL (or canonical URL), if any."""
        row = self.db.execute(
            "SELECT id FROM articles WHERE id = ? OR url = ? OR url = ?"
            " ORDER BY id = ? DESC, stored_at LIMIT 1",
            (reference, reference, canonical_url or reference, reference),
        ).fetchone()
        return row[0] if row else None

    def story_of(self, article_id: str, watch: str) -> str | None:
        """The story the article joined for the watch (None when it did not match)."""
        row = self.db.execute(
            "SELECT story_id FROM matches WHERE article_id = ? AND watch = ?", (article_id, watch)
        ).fetchone()
        return row[0] if row else None

    def version(self) -> tuple[int, int, int]:
        """(rows, highest id, undone rows): changes whenever a judgement is made or undone."""
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(MAX(id), 0), COUNT(undone_at) FROM judgements"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])


def _judgement(row) -> Judgement:
    return Judgement(
        id=row["id"],
        at=from_iso(row["at"]),  # type: ignore[arg-type]
        who=row["who"],
        source=row["source"],
        watch=row["watch"],
        article_id=row["article_id"],
        url=row["url"],
        story_id=row["story_id"],
        relevant=bool(row["relevant"]),
        note=row["note"],
        undone_at=from_iso(row["undone_at"]),
        undone_by=row["undone_by"],
    )
