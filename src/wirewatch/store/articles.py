"""Articles as stored, and every watch's decision on each (the `matches` table)."""

from __future__ import annotations

import json

from wirewatch.models import Article, WatchMatch
from wirewatch.store.db import Database, from_iso, iso
from wirewatch.util import utcnow


class ArticleRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def has(self, article_id: str) -> bool:
        return bool(
            self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone()
        )

    def find_duplicate(self, article: Article, content_hash: str) -> str | None:
        """An already stored article with the same URL or the same text, if any."""
        row = self.db.execute(
            "SELECT id FROM articles WHERE id != ?"
            " AND (content_hash = ? OR (url IS NOT NULL AND url = ?))"
            " ORDER BY stored_at LIMIT 1",
            (article.id, content_hash, article.url),
        ).fetchone()
        return row[0] if row else None

    def add(self, article: Article, content_hash: str) -> None:
        self.db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (
                article.id,
                article.outlet,
                article.url,
                article.title,
                article.text,
                iso(article.published),
                article.language,
                article.text_source,
                content_hash,
                iso(utcnow()),
            ),
        )

    def get(self, article_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None
        return Article(
            id=row["id"],
            outlet=row["outlet"],
            url=row["url"],
            title=row["title"],
            text=row["text"],
            published=from_iso(row["published"]),
            language=row["language"],
            text_source=row["text_source"],
        )

    def add_match(self, article_id: str, match: WatchMatch, story_id: str | None) -> None:
        self.db.execute(
            "INSERT INTO matches VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (article_id, watch)"
            " DO UPDATE SET matched = excluded.matched, score = excluded.score,"
            " threshold = excluded.threshold, evidence = excluded.evidence,"
            " regions = excluded.regions, places = excluded.places,"
            " excluded_by = excluded.excluded_by, reason = excluded.reason,"
            " story_id = excluded.story_id",
            (
                article_id,
                match.watch,
                int(match.matched),
                match.score,
                match.threshold,
                match.evidence,
                json.dumps(match.regions),
                json.dumps(match.places),
                match.excluded_by,
                match.reason,
                story_id,
            ),
        )

    def matches_of(self, article_id: str) -> list[dict]:
        """Every watch's recorded decision on one article (score, threshold, reason, story)."""
        rows = self.db.execute(
            "SELECT * FROM matches WHERE article_id = ? ORDER BY watch", (article_id,)
        )
        return [dict(r) for r in rows]

    def stories_of(self, article_id: str) -> list[tuple[str, str]]:
        """(watch, story id) of every story the article joined."""
        rows = self.db.execute(
            "SELECT watch, story_id FROM matches WHERE article_id = ? AND story_id IS NOT NULL",
            (article_id,),
        )
        return [(r[0], r[1]) for r in rows]
