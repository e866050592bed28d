"""The store: schema versions, crawl state, transactions; stories and outbox survive reopening."""

import os
import stat
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from wirewatch.models import Article, Source
from wirewatch.monitor.fetch_state import FetchState
from wirewatch.store import Store
from wirewatch.store.migrations import MIGRATIONS

T0 = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def source(article_id: str, minutes: int = 0, score: float = 0.7) -> Source:
    return Source(
        article_id,
        "dawn",
        f"https://x.test/{article_id}",
        f"title {article_id}",
        T0 + timedelta(minutes=minutes),
        score,
        "evidence",
    )


def test_new_database_is_at_latest_schema_version(target):
    store = Store(target)
    assert store.schema_version == len(MIGRATIONS)
    assert store.integrity_ok()


def test_fetch_state_and_seen_entries_survive_reopen(target):
    store = Store(target)
    store.crawl.save_fetch_state(FetchState("dawn", etag='"abc"', polls=3, first_polled=T0))
    store.crawl.mark_seen("dawn", ["k1", "k2"])
    store.close()

    store = Store(target)
    state = store.crawl.get_fetch_state("dawn")
    assert (state.etag, state.polls, state.first_polled) == ('"abc"', 3, T0)
    assert store.crawl.unseen_keys("dawn", ["k1", "k2", "k3"]) == {"k3"}
    assert store.crawl.unseen_keys("other-outlet", ["k1"]) == {"k1"}
    assert store.crawl.get_fetch_state("never-polled") is None


def test_failed_transaction_leaves_nothing_behind(target):
    store = Store(target)
    article = Article("a-1", "dawn", "Title", "Body", T0)
    with pytest.raises(RuntimeError), store.transaction():
        store.articles.add(article, "hash")
        store.crawl.mark_seen("dawn", ["k1"])
        raise RuntimeError("crash in the middle")
    assert not store.articles.has("a-1")
    assert store.crawl.unseen_keys("dawn", ["k1"]) == {"k1"}


def test_duplicate_found_by_url_or_text(target):
    store = Store(target)
    store.articles.add(Article("a-1", "dawn", "T", "B", T0, url="https://x.test/1"), "h1")
    same_url = Article("a-2", "geo", "T2", "B2", T0, url="https://x.test/1")
    same_text = Article("a-3", "geo", "T3", "B3", T0, url="https://y.test/3")
    other = Article("a-4", "geo", "T4", "B4", T0, url="https://y.test/4")
    assert store.articles.find_duplicate(same_url, "h2") == "a-1"
    assert store.articles.find_duplicate(same_text, "h1") == "a-1"
    assert store.articles.find_duplicate(other, "h4") is None


def test_story_folds_in_sources_places_and_time(target):
    store = Store(target)
    sid = store.stories.create(
        watch="w",
        title="First",
        seen=T0,
        regions=["Balochistan"],
        places=["Quetta"],
        score=0.6,
        centroid=unit(1, 0),
    )
    store.stories.add_source(
        sid,
        source("a-1"),
        joined_by="new",
        vector=unit(1, 0),
        places=["Quetta"],
        regions=["Balochistan"],
        fingerprint=None,
    )
    store.stories.add_source(
        sid,
        source("a-2", minutes=90, score=0.8),
        joined_by="similar",
        vector=unit(0, 1),
        places=["Gwadar"],
        regions=[],
        fingerprint=b"x" * 8,
    )
    story = store.stories.get(sid)
    assert [s.article_id for s in story.sources] == ["a-1", "a-2"]
    assert story.places == ["Quetta", "Gwadar"]
    assert story.last_seen == T0 + timedelta(minutes=90)
    assert story.best_score == pytest.approx(0.8)
    [open_story] = store.stories.open("w", since=T0)
    assert np.allclose(open_story.centroid, unit(1, 1), atol=1e-6)
    assert open_story.fingerprints == [b"x" * 8]
    assert store.stories.open("w", since=T0 + timedelta(hours=2)) == []


def test_outbox_keeps_order_and_state_across_reopen(target):
    store = Store(target)
    sid = store.stories.create(
        watch="w", title="t", seen=T0, regions=[], places=[], score=0.5, centroid=unit(1, 0)
    )
    store.outbox.enqueue(
        delivery_id="d-1", notifier="slack", story_id=sid, kind="new_story", article_ids=["a-1"]
    )
    store.outbox.enqueue(
        delivery_id="d-2", notifier="slack", story_id=sid, kind="story_update", article_ids=["a-2"]
    )
    store.outbox.enqueue(
        delivery_id="d-1", notifier="slack", story_id=sid, kind="new_story", article_ids=["a-1"]
    )  # the same delivery again is not a second row
    store.outbox.mark_delivered(
        "d-1", remote_ref="1700000000.000100", story_id=sid, notifier="slack"
    )
    store.close()

    store = Store(target)
    assert [r.delivery_id for r in store.outbox.pending("slack")] == ["d-2"]
    assert store.outbox.story_ref(sid, "slack") == "1700000000.000100"
    assert [r.status for r in store.outbox.rows()] == ["delivered", "pending"]


@pytest.fixture
def usual_umask():
    """The common umask (022: files world-readable unless created otherwise)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_database_and_its_wal_and_shm_are_the_owners_only(tmp_path, usual_umask):
    db = tmp_path / "fresh" / "w.db"
    store = Store(db)
    store.outbox.enqueue(delivery_id="d-1", notifier="n", story_id="s-1", kind="new_story",
                         article_ids=["a-1"])  # fmt: skip
    try:
        files = [db, db.with_name("w.db-wal"), db.with_name("w.db-shm")]
        assert all(path.exists() for path in files)  # WAL mode, a write done, still open
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    finally:
        store.close()
    reopened = Store(db)  # reopening works and changes nothing
    assert reopened.outbox.get("d-1") is not None
    reopened.close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_an_existing_database_keeps_its_permissions(tmp_path, usual_umask):
    db = tmp_path / "w.db"
    Store(db).close()
    db.chmod(0o640)  # the operator's choice (a group that backs it up)
    Store(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
