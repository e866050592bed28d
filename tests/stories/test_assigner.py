"""The joining rules of StoryAssigner, with vectors chosen by hand (the model-backed cases
are in tests/stories/test_stories.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from wirewatch.models import Article, ArticleEncoding, PlaceHit, WatchMatch
from wirewatch.rules.leads import STORY_VECTOR_MODEL
from wirewatch.store import Store
from wirewatch.stories.assigner import StoryAssigner

T0 = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
WATCH = SimpleNamespace(name="w", story_window=48 * 3600.0)


def direction(angle_deg: float) -> np.ndarray:
    """A unit vector in the plane; cos(a - b) is the similarity of two of them."""
    a = np.radians(angle_deg)
    return np.array([np.cos(a), np.sin(a), 0.0], dtype=np.float32)


def town(name: str, in_lead: bool = True) -> PlaceHit:
    return PlaceHit(name, name, "PK", "Balochistan", in_lead, local=True)


PROVINCE = PlaceHit("Balochistan", "Balochistan", "PK", "Balochistan", True)


def report(
    store: Store,
    assigner: StoryAssigner,
    n: int,
    angle: float,
    *places: PlaceHit,
    after: timedelta | None = None,
):
    text = f"report number {n} " + " ".join(f"word{n}x{i}" for i in range(40))
    published = T0 + (after if after is not None else timedelta(minutes=n))
    article = Article(f"a-{n}", f"outlet-{n}", f"title {n}", text, published)
    encoding = ArticleEncoding(["lead"], direction(angle)[None, :], list(places))
    encoding.story_vector, encoding.story_model = direction(angle), STORY_VECTOR_MODEL
    match = WatchMatch("w", True, 0.7, 0.45, "evidence", regions=["Balochistan"])
    store.articles.add(article, f"hash-{n}")
    return assigner.assign(WATCH, article, encoding, match)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "w.db")
    yield store
    store.close()


def test_close_enough_to_one_member_joins_even_when_the_centroid_drifted(store):
    assigner = StoryAssigner(store, similarity=0.6, same_place=0.5)
    first = report(store, assigner, 1, 0, PROVINCE)
    report(store, assigner, 2, 50, PROVINCE)  # cos 50° = 0.64 to the first: joins
    report(store, assigner, 3, 100, PROVINCE)  # 0.64 to the second, 0.17 to the first
    late = report(store, assigner, 4, 150, PROVINCE)  # centroid now ~50°: cos 100° < 0
    assert late.story_id == first.story_id and late.joined_by == "similar"
    assert late.similarity == pytest.approx(np.cos(np.radians(50)), abs=1e-5)


@pytest.mark.parametrize(
    ("second_place", "joins"),
    [
        (town("Mach"), True),  # both leads say where: the same town
        (town("Turbat"), False),  # as close, but another town
        (town("Mach", in_lead=False), False),  # named only further down
    ],
)
def test_a_shared_lead_town_lowers_the_bar_a_little(store, second_place, joins):
    assigner = StoryAssigner(store, similarity=0.6, same_place=0.5, same_day=1.01)
    first = report(store, assigner, 1, 0, town("Mach"), PROVINCE)
    second = report(store, assigner, 2, 57, second_place)  # cos 57° = 0.54
    assert (second.story_id == first.story_id) is joins
    assert second.joined_by == ("same_place" if joins else "new")


@pytest.mark.parametrize(
    ("second_place", "after", "joins"),
    [
        (PROVINCE, timedelta(hours=5), True),  # same day, same province, no town named
        (town("Mach", in_lead=False), timedelta(hours=20), True),  # the story's town, further down
        (PROVINCE, timedelta(hours=30), False),  # more than a day after the last report
        (town("Turbat"), timedelta(hours=5), False),  # same day, but another town in the lead
    ],
)
def test_a_report_the_same_day_joins_at_a_lower_bar_unless_it_says_elsewhere(
    store, second_place, after, joins
):
    assigner = StoryAssigner(store, similarity=0.6, same_place=0.5, same_day=0.45)
    first = report(store, assigner, 1, 0, town("Mach"), PROVINCE, after=timedelta(0))
    second = report(store, assigner, 2, 61, second_place, after=after)  # cos 61° = 0.48
    assert (second.story_id == first.story_id) is joins
    assert second.joined_by == ("same_day" if joins else "new")


@pytest.mark.parametrize(
    ("after", "joins"),
    [(timedelta(hours=6), True), (timedelta(hours=30), False)],
)
def test_the_same_town_the_same_day_joins_at_the_lowest_bar(store, after, joins):
    """Two reports of an attack "in Mach" that morning, worded far apart, are one attack."""
    assigner = StoryAssigner(
        store, similarity=0.6, same_place=0.5, same_day=0.45, same_day_place=0.4
    )
    first = report(store, assigner, 1, 0, town("Mach"), PROVINCE, after=timedelta(0))
    second = report(store, assigner, 2, 65, town("Mach"), after=after)  # cos 65° = 0.42
    assert (second.story_id == first.story_id) is joins
    assert second.joined_by == ("same_day" if joins else "new")


def test_different_towns_do_not_split_reports_that_are_close(store):
    """Coordinated attacks: each report names its own subset of the towns hit."""
    assigner = StoryAssigner(store, similarity=0.6, same_place=0.5)
    first = report(store, assigner, 1, 0, town("Quetta"), PROVINCE)
    other_towns = report(store, assigner, 2, 30, town("Sibi"), PROVINCE)  # 0.87
    assert other_towns.story_id == first.story_id


def test_a_copy_joins_whatever_its_vector_says(store):
    assigner = StoryAssigner(store)
    first = report(store, assigner, 1, 0)
    article = Article("a-9", "wire-copy", "title 1", "", T0)
    article.text = store.articles.get("a-1").text  # type: ignore[union-attr]
    encoding = ArticleEncoding(["lead"], direction(90)[None, :], [])
    match = WatchMatch("w", True, 0.7, 0.45, "evidence")
    copy = assigner.assign(WATCH, article, encoding, match)
    assert copy.story_id == first.story_id and copy.joined_by == "same_text"


def test_copy_similarity_is_minhash_jaccard_read_from_the_stored_bytes():
    from wirewatch.stories.fingerprint import copy_similarity, fingerprint

    base = " ".join(f"word{i}" for i in range(200))
    original = fingerprint(base)
    edited = fingerprint(base.replace("word7 ", "changed ").replace("word90 ", ""))
    other = fingerprint(" ".join(f"other{i}" for i in range(200)))
    stored = [s.hashvalues.astype(np.uint32).tobytes() for s in (other, edited)]
    assert copy_similarity(original, stored) == pytest.approx(original.jaccard(edited))
    assert copy_similarity(original, stored) > 0.8 > copy_similarity(original, stored[:1])
    assert copy_similarity(original, []) == 0.0


def test_each_model_s_vectors_are_judged_by_their_own_cosines(store):
    """The multilingual vectors sit close together (0.64 is far for them); the English
    model's lead vectors, of configs with no bound watch, keep their thresholds (0.6)."""
    assigner = StoryAssigner(store)
    first = report(store, assigner, 1, 0, PROVINCE)
    assert report(store, assigner, 2, 50, PROVINCE).story_id != first.story_id  # cos 0.64
    english = []
    for n, angle in ((3, 0), (4, 50)):
        article = Article(f"a-{n}", f"o-{n}", "t", f"text {n} " * 30, T0 + timedelta(hours=n))
        encoding = ArticleEncoding(["lead"], direction(angle)[None, :], [PROVINCE])
        match = WatchMatch("w", True, 0.7, 0.45, "evidence", regions=["Balochistan"])
        english.append(assigner.assign(WATCH, article, encoding, match))
    assert english[1].story_id == english[0].story_id  # cos 0.64 ≥ 0.6
    assert english[0].story_id != first.story_id  # the same vector, another model: apart
