"""The one silence check: which watch or story an active silence covers, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wirewatch.alerts.silences import describe, silence_covering
from wirewatch.store import Store

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_watch_silence_covers_every_story_of_that_watch_only(tmp_path):
    store = Store(tmp_path / "w.db")
    store.silences.add(watch="attacks", ends_at=NOW + timedelta(hours=6), reason="drill", now=NOW)
    assert silence_covering(store, "attacks", "s-1", NOW) is not None
    assert silence_covering(store, "attacks", "s-2", NOW) is not None
    assert silence_covering(store, "shutdowns", "s-3", NOW) is None


def test_a_story_silence_covers_that_story_in_any_watch(tmp_path):
    store = Store(tmp_path / "w.db")
    store.silences.add(story_id="s-7", ends_at=NOW + timedelta(hours=1), reason="known", now=NOW)
    assert silence_covering(store, "attacks", "s-7", NOW) is not None
    assert silence_covering(store, "attacks", "s-8", NOW) is None


def test_a_silence_ends_when_it_says(tmp_path):
    store = Store(tmp_path / "w.db")
    ends = NOW + timedelta(hours=1)
    store.silences.add(watch="attacks", ends_at=ends, reason="drill", now=NOW)
    assert silence_covering(store, "attacks", "s-1", ends - timedelta(seconds=1)) is not None
    assert silence_covering(store, "attacks", "s-1", ends) is None
    assert silence_covering(store, "attacks", "s-1", NOW - timedelta(seconds=1)) is None


def test_a_silence_is_named_with_its_end_and_reason(tmp_path):
    store = Store(tmp_path / "w.db")
    store.silences.add(watch="attacks", ends_at=NOW + timedelta(hours=6), reason="drill", now=NOW)
    [silence] = store.silences.all()
    assert describe(silence) == f"silence #{silence.id} until 2026-12-07 18:00Z: drill"
