"""The schema, as ordered migrations: version N is `MIGRATIONS[N - 1]`, and `PRAGMA
user_version` records how far a database has come. Add a migration; never edit one."""

from __future__ import annotations

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
    # 7: crawler limits (issue 17): what limits cut from an outlet's polls (entries left
    # waiting for the next polls, pages and feeds cut, fields cut)
    """
    ALTER TABLE fetch_state ADD COLUMN limited_polls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fetch_state ADD COLUMN last_limit TEXT;
    ALTER TABLE fetch_state ADD COLUMN last_limit_at TEXT;
    ALTER TABLE fetch_state ADD COLUMN entries_waiting INTEGER NOT NULL DEFAULT 0
    """,
    # 8: feedback (issue 18): the team's judgements of articles for a watch; an undo keeps
    # the row (undone_at), so the history stays
    """
    CREATE TABLE judgements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL, who TEXT NOT NULL, source TEXT NOT NULL,
        watch TEXT NOT NULL, article_id TEXT NOT NULL, url TEXT, story_id TEXT,
        relevant INTEGER NOT NULL, note TEXT,
        undone_at TEXT, undone_by TEXT
    );
    CREATE INDEX judgements_by_watch ON judgements (watch, undone_at)
    """,
]
