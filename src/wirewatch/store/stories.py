"""Stories and their sources: what story assignment compares a new article with."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from wirewatch.models import Source, Story
from wirewatch.store.db import Database, from_iso, iso


@dataclass
class OpenStory:
    """What story assignment needs of a recent story: its vector, places and fingerprints.
    ``model`` made its centroid; ``vectors`` are its members' made by that model."""

    id: str
    watch: str
    last_seen: datetime
    places: list[str]
    centroid: np.ndarray
    members: int
    fingerprints: list[bytes]
    vectors: list[np.ndarray] = field(default_factory=list)  # members' lead vectors
    lead_places: set[str] = field(default_factory=set)  # towns named in the members' leads
    model: str = ""  # '' : stored before vectors recorded their model (never compared)


class StoryRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        *,
        watch: str,
        title: str,
        seen: datetime,
        regions: list[str],
        places: list[str],
        score: float,
        centroid: np.ndarray,
        model: str = "",
    ) -> str:
        """A new story; ``model`` made ``centroid`` ('': not known, never compared)."""
        num = self.db.execute(
            "INSERT INTO stories (watch, title, first_seen, last_seen, regions, places,"
            " best_score, centroid, members, vector_model) VALUES (?,?,?,?,?,?,?,?,0,?)"
            " RETURNING num",
            (
                watch,
                title,
                iso(seen),
                iso(seen),
                json.dumps(regions),
                json.dumps(places),
                score,
                centroid.astype(np.float32).tobytes(),
                model,
            ),
        ).fetchone()[0]
        story_id = f"s-{num}"
        self.db.execute("UPDATE stories SET id = ? WHERE num = ?", (story_id, num))
        return story_id

    def add_source(
        self,
        story_id: str,
        source: Source,
        *,
        joined_by: str,
        vector: np.ndarray,
        places: list[str],
        regions: list[str],
        fingerprint: bytes | None,
        lead_places: Iterable[str] = (),
        model: str = "",
    ) -> None:
        """Add an article to a story and fold its vector (made by ``model``), places and time
        into the story. The centroid is the mean of the members' vectors made by ``model``: a
        story whose centroid another model made starts it again from this vector."""
        row = self.db.execute(
            "SELECT centroid, members, places, regions, last_seen, first_seen, best_score,"
            " vector_model FROM stories WHERE id = ?",
            (story_id,),
        ).fetchone()
        members = row["members"]
        alike = self._members_by(story_id, model) if row["vector_model"] == model else 0
        total = np.frombuffer(row["centroid"], dtype=np.float32) * alike + vector
        centroid = total / max(np.linalg.norm(total), 1e-9) if alike else vector
        merged_places = list(dict.fromkeys([*json.loads(row["places"]), *places]))
        merged_regions = list(dict.fromkeys([*json.loads(row["regions"]), *regions]))
        last_seen = max(from_iso(row["last_seen"]), source.published)
        first_seen = min(from_iso(row["first_seen"]), source.published)
        self.db.execute(
            "UPDATE stories SET centroid = ?, vector_model = ?, members = ?, places = ?,"
            " regions = ?, last_seen = ?, first_seen = ?, best_score = ? WHERE id = ?",
            (
                np.asarray(centroid, dtype=np.float32).tobytes(),
                model,
                members + 1,
                json.dumps(merged_places),
                json.dumps(merged_regions),
                iso(last_seen),
                iso(first_seen),
                max(row["best_score"], source.score),
                story_id,
            ),
        )
        self.db.execute(
            "INSERT INTO story_sources (story_id, article_id, outlet, url, title,"
            " published, score, evidence, joined_by, fingerprint, vector, lead_places,"
            " vector_model) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (
                story_id,
                source.article_id,
                source.outlet,
                source.url,
                source.title,
                iso(source.published),
                source.score,
                source.evidence,
                joined_by,
                fingerprint,
                np.asarray(vector, dtype=np.float32).tobytes(),
                json.dumps(list(dict.fromkeys(lead_places))),
                model,
            ),
        )

    def _members_by(self, story_id: str, model: str) -> int:
        """How many of a story's sources have a vector made by ``model``."""
        return self.db.execute(
            "SELECT COUNT(*) FROM story_sources WHERE story_id = ? AND vector_model = ?"
            " AND vector IS NOT NULL",
            (story_id, model),
        ).fetchone()[0]

    def open(self, watch: str, since: datetime) -> list[OpenStory]:
        rows = self.db.execute(
            "SELECT id, watch, last_seen, places, centroid, members, vector_model FROM stories"
            " WHERE watch = ? AND last_seen >= ? ORDER BY num",
            (watch, iso(since)),
        ).fetchall()
        stories = []
        for row in rows:
            members = self.db.execute(
                "SELECT fingerprint, vector, vector_model, lead_places FROM story_sources"
                " WHERE story_id = ?"
                " ORDER BY rowid",
                (row["id"],),
            ).fetchall()
            stories.append(
                OpenStory(
                    id=row["id"],
                    watch=row["watch"],
                    last_seen=from_iso(row["last_seen"]),
                    places=json.loads(row["places"]),
                    centroid=np.frombuffer(row["centroid"], dtype=np.float32),
                    members=row["members"],
                    fingerprints=[m["fingerprint"] for m in members if m["fingerprint"]],
                    vectors=[
                        np.frombuffer(m["vector"], dtype=np.float32)
                        for m in members
                        if m["vector"] and m["vector_model"] == row["vector_model"]
                    ],
                    lead_places={p for m in members for p in json.loads(m["lead_places"])},
                    model=row["vector_model"],
                )
            )
        return stories

    def get(self, story_id: str) -> Story | None:
        row = self.db.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchone()
        if row is None:
            return None
        return Story(
            id=row["id"],
            watch=row["watch"],
            title=row["title"],
            first_seen=from_iso(row["first_seen"]),
            last_seen=from_iso(row["last_seen"]),
            regions=json.loads(row["regions"]),
            places=json.loads(row["places"]),
            best_score=row["best_score"],
            sources=self.sources(story_id),
        )

    def sources(self, story_id: str, article_ids: Iterable[str] | None = None) -> list[Source]:
        rows = self.db.execute(
            "SELECT * FROM story_sources WHERE story_id = ? ORDER BY published, rowid", (story_id,)
        ).fetchall()
        wanted = set(article_ids) if article_ids is not None else None
        return [
            Source(
                article_id=r["article_id"],
                outlet=r["outlet"],
                url=r["url"],
                title=r["title"],
                published=from_iso(r["published"]),
                score=r["score"],
                evidence=r["evidence"],
            )
            for r in rows
            if wanted is None or r["article_id"] in wanted
        ]

    def recent(self, limit: int = 50, watch: str | None = None) -> list[Story]:
        query = "SELECT id FROM stories" + (" WHERE watch = ?" if watch else "")
        query += " ORDER BY last_seen DESC, num DESC LIMIT ?"
        params = (watch, limit) if watch else (limit,)
        return [s for (sid,) in self.db.execute(query, params) if (s := self.get(sid))]
