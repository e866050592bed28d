"""A detector watch's correction by its judgements: the judged articles vote on the margin."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from wirewatch.feedback.correction import Vote, fit_correction
from wirewatch.feedback.examples import Example, FeedbackExamples
from wirewatch.models import ArticleEncoding, WatchMatch

CLASSES = 4  # a head's classes: single attack, coordinated attack, outage, other
SINGLE = np.array([0.6, 0.3, 0.05, 0.05])
COORDINATED = np.array([0.05, 0.85, 0.05, 0.05])
WATCH = SimpleNamespace(name="w", regions=[], event="coordinated_attack", specific=False)


def read(kinds: np.ndarray) -> ArticleEncoding:
    return ArticleEncoding(
        passages=["lead"],
        vectors=np.eye(1, 8, dtype=np.float32),
        places=[],
        events={"coordinated_attack": float(kinds[1])},
        event_features=np.ones(8, dtype=np.float32),
        event_kinds=kinds,
    )


def fired(probability: float = 0.3) -> WatchMatch:
    return WatchMatch("w", True, probability, 0.225, "lead", reason="detector")


def judged(*verdicts: tuple[np.ndarray, bool], **correction: object) -> FeedbackExamples:
    examples = [
        Example(f"a-{i}", relevant, i, np.eye(1, 8, i + 1, dtype=np.float32)[0],
                np.ones(8, dtype=np.float32), kinds, margin=0.5)
        for i, (kinds, relevant) in enumerate(verdicts)
    ]  # fmt: skip
    return FeedbackExamples({"w": examples}, correction={"kind": "vote", **correction})


def test_an_article_read_like_judged_false_alarms_no_longer_fires_an_unlike_one_does():
    hook = judged(*[(SINGLE + noise, False) for noise in (0.0, 0.02, -0.02)], (COORDINATED, True))
    like = hook.adjust(WATCH, read(SINGLE + 0.01), fired())
    assert not like.matched and like.reason.startswith("feedback: 4 judgements")
    assert hook.adjust(WATCH, read(COORDINATED), fired()).matched


def test_a_watch_decided_by_similarity_is_left_to_its_near_copies():
    hook = judged((SINGLE, False), (SINGLE, False))
    similarity_watch = SimpleNamespace(name="w", regions=[], event=None)
    match = fired()
    assert hook.adjust(similarity_watch, read(SINGLE), match) is match


def test_a_miss_is_promoted_only_when_allowed_and_inside_the_watched_regions():
    miss = WatchMatch("w", False, 0.2, 0.225, "lead", reason="detector")
    assert not judged(*[(COORDINATED, True)] * 3).adjust(WATCH, read(COORDINATED), miss).matched
    hook = judged(*[(COORDINATED, True)] * 3, promotes=True)
    assert hook.adjust(WATCH, read(COORDINATED), miss).matched
    regional = SimpleNamespace(**{**vars(WATCH), "regions": ["Balochistan"]})
    assert not hook.adjust(regional, read(COORDINATED), miss).matched


@given(
    st.lists(st.tuples(st.lists(st.floats(-1, 1), min_size=3, max_size=3), st.booleans()),
             min_size=1, max_size=12),
    st.lists(st.floats(-1, 1), min_size=3, max_size=3),
)  # fmt: skip
def test_the_vote_never_moves_the_margin_more_than_its_weight(judgements, article):
    vectors = [np.array(v) + 2.0 for v, _ in judgements]  # never the zero vector
    vote = Vote.of(vectors, [r for _, r in judgements], weight=2.0, prior=0.5)
    assert abs(vote.shift(np.array(article) + 2.0)) <= 2.0 + 1e-9


def test_the_logistic_correction_is_fitted_toward_the_verdicts():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5))
    relevant = [True, True, True, False, False, False]
    correction = fit_correction(list(x), [0.0] * 6, relevant, strength=0.1)
    shifts = [correction.shift(row) for row in x]
    assert min(shifts[:3]) > 0 > max(shifts[3:])
