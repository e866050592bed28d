"""SQLite persistence: fetch state, seen entries, articles, matches, stories, the outbox.

One connection, used from the event-loop thread only; every call is short. The
schema is versioned with `PRAGMA user_version` and migrated forward on open.
Writes that belong together (an article, its matches, its story and its alerts)
go through `transaction()`, so a crash leaves either all of them or none.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from wirewatch.models import Article, Source, Story, WatchMatch
from wirewatch.monitor.state import FetchState

MIGRATIONS: list[str] = [
    # v1: the walking skeleton
    """
    CREATE TABLE fetch_state (
        outlet TEXT PRIMARY KEY,
        etag TEXT, last_modified TEXT,
        last_success TEXT, last_error TEXT, last_error_at TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        polls INTEGER NOT NULL DEFAULT 0,
        not_modified INTEGER NOT NULL DEFAULT 0,
        entries_seen INTEGER NOT NULL DEFAULT 0,
        first_polled TEXT
    );
    CREATE TABLE seen_entries (
        outlet TEXT NOT NULL, key TEXT NOT NULL, seen_at TEXT NOT NULL,
        PRIMARY KEY (outlet, key)
    ) WITHOUT ROWID;
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        outlet TEXT NOT NULL, url TEXT, title TEXT NOT NULL, text TEXT NOT NULL,
        published TEXT NOT NULL, language TEXT, text_source TEXT NOT NULL,
        content_hash TEXT NOT NULL, stored_at TEXT NOT NULL
    );
    CREATE INDEX articles_by_url ON articles (url);
    CREATE INDEX articles_by_hash ON articles (content_hash);
    CREATE TABLE matches (
        article_id TEXT NOT NULL, watch TEXT NOT NULL,
        matched INTEGER NOT NULL, score REAL NOT NULL, threshold REAL NOT NULL,
        evidence TEXT NOT NULL, regions TEXT NOT NULL, places TEXT NOT NULL,
        excluded_by TEXT, reason TEXT NOT NULL, story_id TEXT,
        PRIMARY KEY (article_id, watch)
    );
    CREATE TABLE stories (
        num INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT UNIQUE,
        watch TEXT NOT NULL, title TEXT NOT NULL,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
        regions TEXT NOT NULL, places TEXT NOT NULL,
        best_score REAL NOT NULL, centroid BLOB NOT NULL, members INTEGER NOT NULL
    );
    CREATE INDEX stories_open ON stories (watch, last_seen);
    CREATE TABLE story_sources (
        story_id TEXT NOT NULL, article_id TEXT NOT NULL,
        outlet TEXT NOT NULL, url TEXT, title TEXT NOT NULL, published TEXT NOT NULL,
        score REAL NOT NULL, evidence TEXT NOT NULL, joined_by TEXT NOT NULL,
        fingerprint BLOB,
        PRIMARY KEY (story_id, article_id)
    );
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL UNIQUE,
        notifier TEXT NOT NULL, story_id TEXT NOT NULL, kind TEXT NOT NULL,
        article_ids TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL, last_error TEXT,
        created_at TEXT NOT NULL, delivered_at TEXT
    );
    CREATE INDEX outbox_pending ON outbox (status, notifier, seq);
    CREATE TABLE story_refs (
        story_id TEXT NOT NULL, notifier TEXT NOT NULL, ref TEXT NOT NULL,
        PRIMARY KEY (story_id, notifier)
    );
    CREATE TABLE decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL, watch TEXT, story_id TEXT, article_id TEXT, notifier TEXT,
        decision TEXT NOT NULL, reason TEXT NOT NULL
    );
    """,
    # 2: email digests remember when each last went out
    """
    CREATE TABLE digests (notifier TEXT PRIMARY KEY, last_sent_at TEXT NOT NULL);
    """,
    # 3: silences: matched and recorded, not notified
    """
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        watch TEXT, story_id TEXT,
        starts_at TEXT NOT NULL, ends_at TEXT NOT NULL,
        reason TEXT NOT NULL, created_by TEXT
    );
    CREATE INDEX outbox_story ON outbox (story_id, notifier, status)
    """,
    # 4: story joining compares with every member (not only the centroid, which drifts) and
    # with the towns named in the members' leads
    """
    ALTER TABLE story_sources ADD COLUMN vector BLOB;
    ALTER TABLE story_sources ADD COLUMN lead_places TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX story_sources_by_article ON story_sources (article_id);
    -- dead-lettering counts from the first failure since the last success or requeue
    ALTER TABLE outbox ADD COLUMN failing_since TEXT
    """,
    # 5: crawler health (issue 3): failures, backlog, page fallbacks, feed ttl, last status
    """
    ALTER TABLE fetch_state ADD COLUMN failed_polls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fetch_state ADD COLUMN first_poll_entries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fetch_state ADD COLUMN page_failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fetch_state ADD COLUMN ttl_s REAL;
    ALTER TABLE fetch_state ADD COLUMN last_status INTEGER
    """,
    # 6: crash safety (issue 7): when a send began, so that an alert whose attempt was cut
    # short (the process killed mid-send) is looked up at the receiver before it is resent
    """
    ALTER TABLE outbox ADD COLUMN sending_since TEXT
    """,
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    # times in UTC already (the crawler's, on its hot path) skip the conversion
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class OutboxRow:
    seq: int
    delivery_id: str
    notifier: str
    story_id: str
    kind: str
    article_ids: list[str]
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    status: str = "pending"
    last_error: str | None = None
    delivered_at: datetime | None = None
    failing_since: datetime | None = None  # first failed attempt since the last success/requeue
    sending_since: datetime | None = None  # an attempt began and never ended: it may have arrived


@dataclass
class Silence:
    id: int
    watch: str | None
    story_id: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None = None


@dataclass
class OpenStory:
    """What story assignment needs of a recent story: its vector, places and fingerprints."""

    id: str
    watch: str
    last_seen: datetime
    places: list[str]
    centroid: np.ndarray
    members: int
    fingerprints: list[bytes]
    vectors: list[np.ndarray] = field(default_factory=list)  # members' lead vectors
    lead_places: set[str] = field(default_factory=set)  # towns named in the members' leads


_FETCH_STATE_COLUMNS = (
    "outlet",
    "etag",
    "last_modified",
    "last_success",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "polls",
    "not_modified",
    "entries_seen",
    "first_polled",
    "failed_polls",
    "first_poll_entries",
    "page_failures",
    "ttl_s",
    "last_status",
)
_FETCH_STATE_TIMES = frozenset({"last_success", "last_error_at", "first_polled"})


def _fetch_state(row: sqlite3.Row) -> FetchState:
    values = {
        name: _dt(row[name]) if name in _FETCH_STATE_TIMES else row[name]
        for name in _FETCH_STATE_COLUMNS
    }
    return FetchState(**values)


def _fetch_state_row(state: FetchState) -> tuple:
    """The row of `state` in `_FETCH_STATE_COLUMNS` order (written out: the crawler's hot path)."""
    return (
        state.outlet,
        state.etag,
        state.last_modified,
        _ts(state.last_success),
        state.last_error,
        _ts(state.last_error_at),
        state.consecutive_failures,
        state.polls,
        state.not_modified,
        state.entries_seen,
        _ts(state.first_polled),
        state.failed_polls,
        state.first_poll_entries,
        state.page_failures,
        state.ttl_s,
        state.last_status,
    )


# what a poll answered 304 changes in a fetch state (see `Store.save_poll_counts`)
_POLL_COUNT_COLUMNS = (
    "last_success",
    "consecutive_failures",
    "polls",
    "not_modified",
    "first_polled",
    "last_status",
)
_UPDATE_POLL_COUNTS = (
    "UPDATE fetch_state SET "
    + ", ".join(f"{name} = ?" for name in _POLL_COUNT_COLUMNS)
    + " WHERE outlet = ?"
)


def _poll_count_row(state: FetchState) -> tuple:
    """The parameters of `_UPDATE_POLL_COUNTS` for `state`."""
    return (
        _ts(state.last_success),
        state.consecutive_failures,
        state.polls,
        state.not_modified,
        _ts(state.first_polled),
        state.last_status,
        state.outlet,
    )


class Store:
    def __init__(self, path: str | Path) -> None:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._migrate()

    # ---- plumbing -------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        self.db.close()

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # ---- crawl state (monitor.state.CrawlState) -------------------------------------
    def get_fetch_state(self, outlet: str) -> FetchState | None:
        row = self.db.execute("SELECT * FROM fetch_state WHERE outlet = ?", (outlet,)).fetchone()
        return None if row is None else _fetch_state(row)

    def save_fetch_state(self, state: FetchState) -> None:
        self.save_fetch_states([state])

    def save_fetch_states(self, states: Iterable[FetchState]) -> None:
        """Write many outlets' fetch state at once (one transaction: the crawler batches)."""
        rows = [_fetch_state_row(state) for state in states]
        if not rows:
            return
        names = ", ".join(_FETCH_STATE_COLUMNS)
        marks = ", ".join("?" * len(_FETCH_STATE_COLUMNS))
        sql = f"INSERT OR REPLACE INTO fetch_state ({names}) VALUES ({marks})"
        with self.transaction():
            self.db.executemany(sql, rows)

    def save_poll_counts(self, states: Iterable[FetchState]) -> None:
        """Write only what a poll answered 304 changes (`_POLL_COUNT_COLUMNS`), in one
        transaction; the whole row of an outlet that has none in the store yet."""
        states = list(states)
        if not states:
            return
        rows = [_poll_count_row(state) for state in states]
        with self.transaction():
            updated = self.db.executemany(_UPDATE_POLL_COUNTS, rows).rowcount
            if updated != len(rows):  # some outlets have no row yet: write theirs in full
                self.save_fetch_states(states)

    def all_fetch_states(self) -> list[FetchState]:
        rows = self.db.execute("SELECT * FROM fetch_state ORDER BY outlet").fetchall()
        return [_fetch_state(row) for row in rows]

    def unseen_keys(self, outlet: str, keys: Iterable[str]) -> set[str]:
        keys = set(keys)
        if not keys:
            return set()
        seen: set[str] = set()
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            marks = ",".join("?" * len(chunk))
            seen.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT key FROM seen_entries WHERE outlet = ? AND key IN ({marks})",
                    (outlet, *chunk),
                )
            )
        return keys - seen

    def mark_seen(self, outlet: str, keys: Iterable[str]) -> None:
        now = _ts(utcnow())
        self.db.executemany(
            "INSERT OR IGNORE INTO seen_entries VALUES (?,?,?)",
            [(outlet, key, now) for key in keys if key],
        )

    # ---- articles -------------------------------------------------------------------
    def has_article(self, article_id: str) -> bool:
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

    def add_article(self, article: Article, content_hash: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                article.id,
                article.outlet,
                article.url,
                article.title,
                article.text,
                _ts(article.published),
                article.language,
                article.text_source,
                content_hash,
                _ts(utcnow()),
            ),
        )

    def get_article(self, article_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None
        return Article(
            id=row["id"],
            outlet=row["outlet"],
            url=row["url"],
            title=row["title"],
            text=row["text"],
            published=_dt(row["published"]),
            language=row["language"],
            text_source=row["text_source"],
        )

    def count(self, table: str) -> int:
        assert table.isidentifier()
        return self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    # ---- matches --------------------------------------------------------------------
    def add_match(self, article_id: str, match: WatchMatch, story_id: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO matches VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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

    def matches_of_article(self, article_id: str) -> list[dict]:
        """Every watch's recorded decision on one article (score, threshold, reason, story)."""
        rows = self.db.execute(
            "SELECT * FROM matches WHERE article_id = ? ORDER BY watch", (article_id,)
        )
        return [dict(r) for r in rows]

    def stories_of_article(self, article_id: str) -> list[tuple[str, str]]:
        """(watch, story id) of every story the article joined."""
        rows = self.db.execute(
            "SELECT watch, story_id FROM matches WHERE article_id = ? AND story_id IS NOT NULL",
            (article_id,),
        )
        return [(r[0], r[1]) for r in rows]

    # ---- stories --------------------------------------------------------------------
    def create_story(
        self,
        *,
        watch: str,
        title: str,
        seen: datetime,
        regions: list[str],
        places: list[str],
        score: float,
        centroid: np.ndarray,
    ) -> str:
        cursor = self.db.execute(
            "INSERT INTO stories (watch, title, first_seen, last_seen, regions, places,"
            " best_score, centroid, members) VALUES (?,?,?,?,?,?,?,?,0)",
            (
                watch,
                title,
                _ts(seen),
                _ts(seen),
                json.dumps(regions),
                json.dumps(places),
                score,
                centroid.astype(np.float32).tobytes(),
            ),
        )
        story_id = f"s-{cursor.lastrowid}"
        self.db.execute("UPDATE stories SET id = ? WHERE num = ?", (story_id, cursor.lastrowid))
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
    ) -> None:
        """Add an article to a story and fold its vector, places and time into the story."""
        row = self.db.execute(
            "SELECT centroid, members, places, regions, last_seen, first_seen, best_score"
            " FROM stories WHERE id = ?",
            (story_id,),
        ).fetchone()
        members = row["members"]
        total = np.frombuffer(row["centroid"], dtype=np.float32) * members + vector
        centroid = total / max(np.linalg.norm(total), 1e-9) if members else vector
        merged_places = list(dict.fromkeys([*json.loads(row["places"]), *places]))
        merged_regions = list(dict.fromkeys([*json.loads(row["regions"]), *regions]))
        last_seen = max(_dt(row["last_seen"]), source.published)
        first_seen = min(_dt(row["first_seen"]), source.published)
        self.db.execute(
            "UPDATE stories SET centroid = ?, members = ?, places = ?, regions = ?, last_seen = ?,"
            " first_seen = ?, best_score = ? WHERE id = ?",
            (
                np.asarray(centroid, dtype=np.float32).tobytes(),
                members + 1,
                json.dumps(merged_places),
                json.dumps(merged_regions),
                _ts(last_seen),
                _ts(first_seen),
                max(row["best_score"], source.score),
                story_id,
            ),
        )
        self.db.execute(
            "INSERT OR IGNORE INTO story_sources (story_id, article_id, outlet, url, title,"
            " published, score, evidence, joined_by, fingerprint, vector, lead_places)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                story_id,
                source.article_id,
                source.outlet,
                source.url,
                source.title,
                _ts(source.published),
                source.score,
                source.evidence,
                joined_by,
                fingerprint,
                np.asarray(vector, dtype=np.float32).tobytes(),
                json.dumps(list(dict.fromkeys(lead_places))),
            ),
        )

    def open_stories(self, watch: str, since: datetime) -> list[OpenStory]:
        rows = self.db.execute(
            "SELECT id, watch, last_seen, places, centroid, members FROM stories"
            " WHERE watch = ? AND last_seen >= ? ORDER BY num",
            (watch, _ts(since)),
        ).fetchall()
        stories = []
        for row in rows:
            members = self.db.execute(
                "SELECT fingerprint, vector, lead_places FROM story_sources WHERE story_id = ?"
                " ORDER BY rowid",
                (row["id"],),
            ).fetchall()
            stories.append(
                OpenStory(
                    id=row["id"],
                    watch=row["watch"],
                    last_seen=_dt(row["last_seen"]),
                    places=json.loads(row["places"]),
                    centroid=np.frombuffer(row["centroid"], dtype=np.float32),
                    members=row["members"],
                    fingerprints=[m["fingerprint"] for m in members if m["fingerprint"]],
                    vectors=[
                        np.frombuffer(m["vector"], dtype=np.float32) for m in members if m["vector"]
                    ],
                    lead_places={p for m in members for p in json.loads(m["lead_places"])},
                )
            )
        return stories

    def get_story(self, story_id: str) -> Story | None:
        row = self.db.execute("SELECT * FROM stories WHERE id = ?", (story_id,)).fetchone()
        if row is None:
            return None
        return Story(
            id=row["id"],
            watch=row["watch"],
            title=row["title"],
            first_seen=_dt(row["first_seen"]),
            last_seen=_dt(row["last_seen"]),
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
                published=_dt(r["published"]),
                score=r["score"],
                evidence=r["evidence"],
            )
            for r in rows
            if wanted is None or r["article_id"] in wanted
        ]

    def recent_stories(self, limit: int = 50, watch: str | None = None) -> list[Story]:
        query = "SELECT id FROM stories" + (" WHERE watch = ?" if watch else "")
        query += " ORDER BY last_seen DESC, num DESC LIMIT ?"
        params = (watch, limit) if watch else (limit,)
        return [s for (sid,) in self.db.execute(query, params) if (s := self.get_story(sid))]

    # ---- outbox ---------------------------------------------------------------------
    def enqueue(
        self,
        *,
        delivery_id: str,
        notifier: str,
        story_id: str,
        kind: str,
        article_ids: list[str],
        not_before: datetime | None = None,
        now: datetime | None = None,
    ) -> None:
        now = now or utcnow()
        self.db.execute(
            "INSERT OR IGNORE INTO outbox (delivery_id, notifier, story_id, kind, article_ids,"
            " next_attempt_at, created_at) VALUES (?,?,?,?,?,?,?)",
            (
                delivery_id,
                notifier,
                story_id,
                kind,
                json.dumps(article_ids),
                _ts(max(now, not_before or now)),
                _ts(now),
            ),
        )

    def waiting_alert(self, story_id: str, notifier: str, now: datetime) -> OutboxRow | None:
        """A queued alert for this story still in its grouping wait or update interval.

        New articles may join it. One that is due is not offered: the delivery worker may
        already be sending it, and an article added then would be marked delivered unsent.
        """
        row = self.db.execute(
            "SELECT * FROM outbox WHERE story_id = ? AND notifier = ? AND status = 'pending'"
            " AND attempts = 0 AND next_attempt_at > ? ORDER BY seq DESC LIMIT 1",
            (story_id, notifier, _ts(now)),
        ).fetchone()
        return self._outbox_row(row) if row else None

    def add_to_alert(self, delivery_id: str, article_ids: list[str]) -> None:
        row = self.db.execute(
            "SELECT article_ids FROM outbox WHERE delivery_id = ?", (delivery_id,)
        ).fetchone()
        merged = list(dict.fromkeys([*json.loads(row[0]), *article_ids]))
        self.db.execute(
            "UPDATE outbox SET article_ids = ? WHERE delivery_id = ?",
            (json.dumps(merged), delivery_id),
        )

    def last_alert_at(self, story_id: str, notifier: str) -> datetime | None:
        """When this story last went out (or is due to) through this notifier."""
        row = self.db.execute(
            "SELECT MAX(COALESCE(delivered_at, next_attempt_at)) FROM outbox"
            " WHERE story_id = ? AND notifier = ? AND status != 'dead'",
            (story_id, notifier),
        ).fetchone()
        return _dt(row[0]) if row else None

    def pending_deliveries(self, notifier: str | None = None) -> list[OutboxRow]:
        query = "SELECT * FROM outbox WHERE status = 'pending'"
        params: tuple = ()
        if notifier:
            query += " AND notifier = ?"
            params = (notifier,)
        return [self._outbox_row(r) for r in self.db.execute(query + " ORDER BY seq", params)]

    def outbox_rows(self, status: str | None = None) -> list[OutboxRow]:
        query = "SELECT * FROM outbox" + (" WHERE status = ?" if status else "") + " ORDER BY seq"
        return [self._outbox_row(r) for r in self.db.execute(query, (status,) if status else ())]

    @staticmethod
    def _outbox_row(r: sqlite3.Row) -> OutboxRow:
        return OutboxRow(
            seq=r["seq"],
            delivery_id=r["delivery_id"],
            notifier=r["notifier"],
            story_id=r["story_id"],
            kind=r["kind"],
            article_ids=json.loads(r["article_ids"]),
            attempts=r["attempts"],
            next_attempt_at=_dt(r["next_attempt_at"]),
            created_at=_dt(r["created_at"]),
            status=r["status"],
            last_error=r["last_error"],
            delivered_at=_dt(r["delivered_at"]),
            failing_since=_dt(r["failing_since"]),
            sending_since=_dt(r["sending_since"]),
        )

    def mark_delivered(
        self,
        delivery_id: str,
        *,
        remote_ref: str | None,
        story_id: str,
        notifier: str,
        now: datetime | None = None,
    ) -> None:
        """Delivered, and the receiver's id for the story (Slack `ts`) kept in the same commit."""
        with self.transaction():
            if remote_ref:
                self.db.execute(
                    "INSERT OR IGNORE INTO story_refs VALUES (?,?,?)",
                    (story_id, notifier, remote_ref),
                )
            self.db.execute(
                "UPDATE outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1,"
                " last_error = NULL, failing_since = NULL, sending_since = NULL"
                " WHERE delivery_id = ?",
                (_ts(now or utcnow()), delivery_id),
            )

    def mark_sending(self, delivery_id: str, *, now: datetime | None = None) -> None:
        """Committed before each attempt: until the attempt is recorded as delivered or failed,
        the alert may or may not have reached the receiver."""
        self.db.execute(
            "UPDATE outbox SET sending_since = COALESCE(sending_since, ?) WHERE delivery_id = ?",
            (_ts(now or utcnow()), delivery_id),
        )

    def mark_attempt_failed(
        self,
        delivery_id: str,
        *,
        error: str,
        next_attempt_at: datetime,
        dead: bool,
        now: datetime | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
            " status = ?, failing_since = COALESCE(failing_since, ?), sending_since = NULL"
            " WHERE delivery_id = ?",
            (
                error,
                _ts(next_attempt_at),
                "dead" if dead else "pending",
                _ts(now or utcnow()),
                delivery_id,
            ),
        )

    def requeue(self, delivery_ids: Iterable[str], *, now: datetime | None = None) -> list[str]:
        """Put dead or pending deliveries back at the head of their queue, due now; the ids
        that were found (delivered ones are never sent again)."""
        when = _ts(now or utcnow())
        found = []
        with self.transaction():
            for delivery_id in delivery_ids:
                cursor = self.db.execute(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?,"
                    " failing_since = NULL WHERE delivery_id = ? AND status != 'delivered'",
                    (when, delivery_id),
                )
                if cursor.rowcount:
                    found.append(delivery_id)
        return found

    def claim(self, delivery_ids: Iterable[str], now: datetime) -> None:
        """Make pending deliveries due now, so that no new article joins them (see
        `waiting_alert`): they are about to be sent as they are."""
        self.db.executemany(
            "UPDATE outbox SET next_attempt_at = ? WHERE delivery_id = ? AND status = 'pending'"
            " AND next_attempt_at > ?",
            [(_ts(now), delivery_id, _ts(now)) for delivery_id in delivery_ids],
        )

    def mark_silenced(self, delivery_id: str, *, now: datetime | None = None) -> None:
        """Not sent: a silence added after the alert was queued covers it (final, like
        delivered)."""
        self.db.execute(
            "UPDATE outbox SET status = 'silenced', delivered_at = ? WHERE delivery_id = ?"
            " AND status = 'pending'",
            (_ts(now or utcnow()), delivery_id),
        )

    def outbox_counts(self) -> dict[str, int]:
        """Deliveries by status: pending, delivered, dead (and silenced, when any were)."""
        rows = self.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {"pending": 0, "delivered": 0, "dead": 0, **{r[0]: r[1] for r in rows}}

    def story_deliveries(self, story_id: str) -> list[OutboxRow]:
        """Every delivery of one story, all notifiers, in the order they were queued."""
        rows = self.db.execute("SELECT * FROM outbox WHERE story_id = ? ORDER BY seq", (story_id,))
        return [self._outbox_row(r) for r in rows]

    def get_delivery(self, delivery_id: str) -> OutboxRow | None:
        row = self.db.execute(
            "SELECT * FROM outbox WHERE delivery_id = ?", (delivery_id,)
        ).fetchone()
        return self._outbox_row(row) if row else None

    def story_ref(self, story_id: str, notifier: str) -> str | None:
        row = self.db.execute(
            "SELECT ref FROM story_refs WHERE story_id = ? AND notifier = ?", (story_id, notifier)
        ).fetchone()
        return row[0] if row else None

    # ---- silences -------------------------------------------------------------------
    def add_silence(
        self,
        *,
        ends_at: datetime,
        reason: str,
        watch: str | None = None,
        story_id: str | None = None,
        created_by: str | None = None,
        now: datetime | None = None,
    ) -> int:
        if (watch is None) == (story_id is None):
            raise ValueError("a silence covers either one watch or one story")
        cursor = self.db.execute(
            "INSERT INTO silences (watch, story_id, starts_at, ends_at, reason, created_by)"
            " VALUES (?,?,?,?,?,?)",
            (watch, story_id, _ts(now or utcnow()), _ts(ends_at), reason, created_by),
        )
        return int(cursor.lastrowid)

    def silences(self, *, active_at: datetime | None = None) -> list[Silence]:
        query = "SELECT * FROM silences"
        params: tuple = ()
        if active_at is not None:
            query += " WHERE starts_at <= ? AND ends_at > ?"
            params = (_ts(active_at), _ts(active_at))
        return [
            Silence(
                id=r["id"],
                watch=r["watch"],
                story_id=r["story_id"],
                starts_at=_dt(r["starts_at"]),
                ends_at=_dt(r["ends_at"]),
                reason=r["reason"],
                created_by=r["created_by"],
            )
            for r in self.db.execute(query + " ORDER BY id", params)
        ]

    def active_silence(
        self, watch: str, story_id: str, now: datetime | None = None
    ) -> Silence | None:
        now = now or utcnow()
        return next(
            (s for s in self.silences(active_at=now) if s.watch == watch or s.story_id == story_id),
            None,
        )

    def expire_silence(self, silence_id: int) -> bool:
        cursor = self.db.execute(
            "UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?",
            (_ts(utcnow()), silence_id, _ts(utcnow())),
        )
        return cursor.rowcount > 0

    # ---- digests --------------------------------------------------------------------
    def last_digest_at(self, notifier: str) -> datetime | None:
        row = self.db.execute(
            "SELECT last_sent_at FROM digests WHERE notifier = ?", (notifier,)
        ).fetchone()
        return _dt(row[0]) if row else None

    def set_last_digest_at(self, notifier: str, at: datetime) -> None:
        self.db.execute("INSERT OR REPLACE INTO digests VALUES (?, ?)", (notifier, _ts(at)))

    # ---- decisions ------------------------------------------------------------------
    def record_decision(
        self,
        *,
        decision: str,
        reason: str,
        watch: str | None = None,
        story_id: str | None = None,
        article_id: str | None = None,
        notifier: str | None = None,
    ) -> None:
        """Every send/skip decision with its reason: the answer to "why did I get this?"."""
        self.db.execute(
            "INSERT INTO decisions (at, watch, story_id, article_id, notifier, decision, reason)"
            " VALUES (?,?,?,?,?,?,?)",
            (_ts(utcnow()), watch, story_id, article_id, notifier, decision, reason),
        )

    def decisions(
        self, story_id: str | None = None, *, article_id: str | None = None
    ) -> list[dict]:
        """Recorded decisions, oldest first: all, or those about one story and/or article."""
        where = [(c, v) for c, v in (("story_id", story_id), ("article_id", article_id)) if v]
        query = "SELECT * FROM decisions"
        if where:
            query += " WHERE " + " AND ".join(f"{c} = ?" for c, _ in where)
        rows = self.db.execute(query + " ORDER BY seq", tuple(v for _, v in where))
        return [dict(r) for r in rows]
