"""Story vectors record the model that made them (migration 11, both engines): a story stored
before, its vectors made by the English model, is never compared with the multilingual
vectors stories are grouped by now; a copy of one of its reports still joins it."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from wirewatch.models import Article, ArticleEncoding, WatchMatch
from wirewatch.rules.leads import STORY_VECTOR_MODEL
from wirewatch.store import Store, migrations
from wirewatch.store.db import iso
from wirewatch.stories.assigner import StoryAssigner, article_sketch

T0 = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
WATCH = SimpleNamespace(name="w", story_window=48 * 3600.0)
BEFORE = 10  # the schema version before story vectors recorded their model
VECTOR = np.eye(384, dtype=np.float32)[0]
TEXT = "Gunmen attacked a police post in Quetta on Saturday, killing four, officials said. " * 3


def store_before_migration(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database at version 10 holding one story and its source, written as version 10
    wrote them (the English model's vector, no model recorded)."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:BEFORE])
    old = Store(target)
    assert old.schema_version == BEFORE
    old.execute(
        "INSERT INTO stories (id, watch, title, first_seen, last_seen, regions, places,"
        " best_score, centroid, members) VALUES ('s-old', 'w', 'old', ?, ?, '[]', '[]', 0.7,"
        " ?, 1)",
        (iso(T0), iso(T0), VECTOR.tobytes()),
    )
    old.execute(
        "INSERT INTO story_sources (story_id, article_id, outlet, title, published, score,"
        " evidence, joined_by, vector) VALUES ('s-old', 'a-0', 'dawn', 'old', ?, 0.7, 'e',"
        " 'new', ?)",
        (iso(T0), VECTOR.tobytes()),
    )
    old.close()
    monkeypatch.undo()


def report(store: Store, n: int, text: str) -> tuple[str, bool]:
    article = Article(f"a-{n}", f"outlet-{n}", f"title {n}", text, T0 + timedelta(hours=n))
    encoding = ArticleEncoding(["lead"], np.zeros((0, 384), np.float32), [], story_vector=VECTOR)
    encoding.story_model = STORY_VECTOR_MODEL
    match = WatchMatch("w", True, 0.7, 0.5, "evidence")
    decision = StoryAssigner(store).assign(WATCH, article, encoding, match)
    return decision.story_id, decision.new_story


def test_old_model_vectors_are_not_compared_after_the_migration(target, monkeypatch):
    store_before_migration(target, monkeypatch)
    store = Store(target)
    assert store.schema_version == len(migrations.MIGRATIONS)
    [old] = store.stories.open("w", since=T0)
    assert old.model == "" and old.members == 1

    other = " ".join(f"word{i}" for i in range(60))  # no copy of the old report
    first, new = report(store, 1, other)  # the very same vector, made by another model
    assert new and first != "s-old"
    assert report(store, 2, other + " again") == (first, False)  # same model: compared
    assert (
        store.execute("SELECT vector_model FROM stories WHERE id = ?", (first,)).fetchone()[0]
        == STORY_VECTOR_MODEL
    )
    store.close()


def test_a_copy_joins_an_old_story_whose_centroid_then_starts_again(target, monkeypatch):
    store_before_migration(target, monkeypatch)
    store = Store(target)
    store.execute(
        "UPDATE story_sources SET fingerprint = ? WHERE article_id = 'a-0'",
        (fingerprint_of(TEXT),),
    )
    assert report(store, 1, TEXT) == ("s-old", False)  # a copy, whatever the vectors
    [story] = store.stories.open("w", since=T0)
    assert story.model == STORY_VECTOR_MODEL and story.members == 2
    assert np.allclose(story.centroid, VECTOR)  # from the new report's vector alone
    assert len(story.vectors) == 1  # the old member's vector is not the new model's
    store.close()


def fingerprint_of(text: str) -> bytes:
    sketch = article_sketch(Article("x", "o", "t", text, T0))
    return sketch.hashvalues.astype(np.uint32).tobytes()
