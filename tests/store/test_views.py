"""The dashboard's read queries: right rows, filters that cannot be tricked, and a fixed
number of queries per page however many rows it shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from wirewatch.models import Source
from wirewatch.store import Store, views

T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def add_story(store: Store, n: int, *, watch="w", regions=("Balochistan",), outlets=2) -> str:
    story_id = store.stories.create(
        watch=watch, title=f"story {n}", seen=T0, regions=list(regions), places=["Quetta"],
        score=0.7, centroid=np.ones(4, dtype=np.float32),
    )  # fmt: skip
    for k in range(outlets):
        source = Source(
            f"a-{n}-{k}", f"outlet-{k}", None, f"t{k}", T0 + timedelta(hours=k), 0.7, "e"
        )
        store.stories.add_source(
            story_id, source, joined_by="similar", vector=np.ones(4, dtype=np.float32),
            places=[], regions=[], fingerprint=None,
        )  # fmt: skip
    return story_id


@pytest.fixture
def store(target):
    """On both engines (tests/store/conftest.py): the dashboard's SQL is written once."""
    store = Store(target)
    yield store
    store.close()


def count_queries(store: Store):
    if store.engine != "sqlite":  # the same SQL on both engines: counted once, on SQLite
        pytest.skip("statements are counted with SQLite's trace callback")
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    return statements


def test_story_rows_count_outlets_and_sources_per_hour(store):
    add_story(store, 1, outlets=3)
    [row] = views.story_rows(store, views.StoryFilter())
    assert (row.outlets, row.sources) == (3, 3)
    assert row.sources_per_hour == pytest.approx(1.5)  # 3 sources over 2 hours


@pytest.mark.parametrize("stories", [1, 40])
def test_the_stories_page_is_one_query_whatever_its_length(store, stories):
    for n in range(stories):
        add_story(store, n)
    statements = count_queries(store)
    rows = views.story_rows(store, views.StoryFilter(limit=50))
    assert len(rows) == stories
    assert len(statements) == 1


def test_a_story_page_is_six_queries_whatever_its_sources_and_judgements(store):
    story_id = add_story(store, 1, outlets=30)
    for k in range(0, 30, 3):
        judge(store, f"a-1-{k}", relevant=k % 2 == 0, story_id=story_id)
    statements = count_queries(store)
    detail = views.story_detail(store, story_id)
    assert detail is not None and len(detail.sources) == 30
    assert len(detail.judgements) == 10
    assert len(statements) == 6


def judge(store: Store, article_id: str, *, relevant: bool, watch="w", story_id=None) -> int:
    return store.feedback.record(
        watch=watch, article_id=article_id, relevant=relevant, who="ali", source="dashboard",
        story_id=story_id,
    ).id  # fmt: skip


def test_a_story_shows_its_sources_judgements_and_each_ones_latest_verdict(store):
    story_id = add_story(store, 1, outlets=3)
    add_story(store, 2, outlets=1)
    first = judge(store, "a-1-0", relevant=True)  # no story recorded: found by its source
    judge(store, "a-1-0", relevant=False)
    judge(store, "a-1-1", relevant=True, watch="other")  # another watch's judgement
    undone = judge(store, "a-1-2", relevant=False)
    store.feedback.undo(undone, "ada")
    judge(store, "a-2-0", relevant=True)  # another story's source
    detail = views.story_detail(store, story_id)
    assert detail is not None
    assert [j["id"] for j in detail.judgements] == [undone, first + 1, first]
    assert {a: bool(j["relevant"]) for a, j in detail.verdicts().items()} == {"a-1-0": False}
    assert detail.headline is not None and detail.headline.article_id == "a-1-0"


def add_match(store: Store, article_id: str, matched: bool, watch="w") -> None:
    store.execute(
        "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
        (article_id, "o", None, f"t {article_id}", "x", T0.isoformat(), "en", "page",
         f"h{article_id}", T0.isoformat()),
    )  # fmt: skip
    store.execute(
        "INSERT INTO matches VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (article_id, watch, int(matched), 0.6, 0.55, "e", "[]", "[]", None, "r", None),
    )


def test_precision_counts_each_judged_alert_once_with_its_latest_active_judgement(store):
    assert views.watch_feedback(store, "w", 10).precision is None  # no judgements yet
    for n in range(5):
        add_match(store, f"m-{n}", matched=True)
    add_match(store, "miss", matched=False)
    judge(store, "m-0", relevant=False)
    judge(store, "m-0", relevant=True)  # changed its mind: counts once, as relevant
    judge(store, "m-1", relevant=False)
    store.feedback.undo(judge(store, "m-2", relevant=False), "ada")  # undone: not counted
    judge(store, "m-3", relevant=True, watch="other")  # another watch
    judge(store, "miss", relevant=True)  # a missed report: not an alert
    statements = count_queries(store)
    feedback = views.watch_feedback(store, "w", 3)
    assert len(statements) == 2
    assert (feedback.judged, feedback.relevant, feedback.missed_relevant) == (2, 1, 1)
    assert feedback.precision == pytest.approx(0.5)
    assert [j["article_id"] for j in feedback.recent] == ["miss", "m-2", "m-1"]
    assert feedback.recent[1]["undone_by"] == "ada"
    assert feedback.recent[0]["title"] == "t miss"


def test_region_filter_matches_whole_names_and_ignores_wildcards(store):
    add_story(store, 1, regions=("Balochistan",))
    add_story(store, 2, regions=("Punjab",))
    add_story(store, 3, regions=("Sindh_%",))

    def titles(region):
        return sorted(r.title for r in views.story_rows(store, views.StoryFilter(region=region)))

    assert titles("Balochistan") == ["story 1"]
    assert titles("Quetta") == ["story 1", "story 2", "story 3"]  # a place matches too
    assert titles("%") == []
    assert titles("Baloch") == []  # whole names only
    assert titles("Sindh_%") == ["story 3"]
    assert titles('"') == []


def test_watch_and_time_filters(store):
    add_story(store, 1, watch="a")
    add_story(store, 2, watch="b")
    assert [r.watch for r in views.story_rows(store, views.StoryFilter(watch="b"))] == ["b"]
    later = T0 + timedelta(days=1)
    assert views.story_rows(store, views.StoryFilter(since=later)) == []


def test_near_misses_are_the_unmatched_decisions_just_under_the_threshold(store):
    for n, (matched, score) in enumerate([(1, 0.8), (0, 0.5), (0, 0.3), (0, 0.54)]):
        article_id = f"a-{n}"
        store.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            (article_id, "o", None, f"t{n}", "x", (T0 + timedelta(hours=n)).isoformat(), "en",
             "page", f"h{n}", T0.isoformat()),
        )  # fmt: skip
        store.execute(
            "INSERT INTO matches VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (article_id, "w", matched, score, 0.55, "e", "[]", "[]", None, "r", None),
        )
    decisions = views.watch_decisions(store, "w", limit=10, near_margin=0.1)
    assert [d["title"] for d in decisions["recent"]] == ["t3", "t2", "t1", "t0"]
    assert [d["title"] for d in decisions["near_misses"]] == ["t3", "t1"]
