"""Judgements as stored (store/feedback.py), on both engines: recorded with who, when, where
from; undo keeps the history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wirewatch.models import Article
from wirewatch.store import Store


def stored_article(store: Store, article_id: str = "a-1", url: str | None = None) -> Article:
    article = Article(
        id=article_id,
        outlet="dawn",
        title="Militants attack police stations in Turbat",
        text="Gunmen stormed two police stations in Turbat on Monday night.",
        published=datetime(2026, 11, 24, 7, tzinfo=UTC),
        url=url,
    )
    store.articles.add(article, f"hash-{article_id}")
    return article


def test_a_judgement_is_kept_across_reopening_and_an_undo_keeps_the_row(target):
    store = Store(target)
    stored_article(store)
    judgement = store.feedback.record(
        watch="balochistan-attacks", article_id="a-1", relevant=False, who="ayesha",
        source="slack", note="a police raid, not an attack",
    )  # fmt: skip
    store.close()

    store = Store(target)
    [again] = store.feedback.list()
    assert again == judgement
    assert (again.who, again.source, again.relevant, again.note) == (
        "ayesha", "slack", False, "a police raid, not an attack",
    )  # fmt: skip
    before = store.feedback.version()
    assert store.feedback.undo(judgement.id, "bilal")
    assert not store.feedback.undo(judgement.id, "bilal"), "an undone judgement stays undone"
    assert store.feedback.version() != before
    assert store.feedback.list() == []
    [history] = store.feedback.list(include_undone=True)
    assert history.undone_by == "bilal" and history.undone_at is not None
    store.close()


def test_an_article_is_found_by_its_id_or_its_url(target):
    store = Store(target)
    stored_article(store, "a-1", "https://dawn.example/news/1")
    stored_article(store, "a-2", "https://dawn.example/news/2")
    assert store.feedback.find_article("a-2") == "a-2"
    assert store.feedback.find_article("https://dawn.example/news/1") == "a-1"
    assert store.feedback.find_article("https://dawn.example/news/3") is None
    store.close()


def test_an_unknown_source_is_refused(target):
    store = Store(target)
    with pytest.raises(ValueError, match="unknown feedback source"):
        store.feedback.record(
            watch="w", article_id="a", relevant=True, who="x", source="carrier-pigeon"
        )
    store.close()
