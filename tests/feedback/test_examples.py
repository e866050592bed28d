"""The matcher's hook: the nearest judged article of a watch may overturn its decision."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from wirewatch.feedback.examples import Example, FeedbackExamples
from wirewatch.models import ArticleEncoding, WatchMatch


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def encoding(vector: np.ndarray) -> ArticleEncoding:
    return ArticleEncoding(passages=["lead"], vectors=vector[None, :], places=[])


def decision(matched: bool, regions: list[str] | None = None) -> WatchMatch:
    return WatchMatch("w", matched, 0.5, 0.4, "lead", regions=regions or [], reason="score")


WATCH = SimpleNamespace(name="w", regions=[])
REGIONAL = SimpleNamespace(name="w", regions=["Balochistan"])


def examples(*judged: tuple[np.ndarray, bool]) -> FeedbackExamples:
    return FeedbackExamples(
        {"w": [Example(f"a-{i}", relevant, i, v) for i, (v, relevant) in enumerate(judged)]},
        relevant_similarity=0.9,
        not_relevant_similarity=0.9,
        margin=0.05,
    )


def test_a_match_close_to_an_article_judged_not_relevant_is_dropped():
    hook = examples((unit(1, 0, 0), False))
    adjusted = hook.adjust(WATCH, encoding(unit(1, 0.1, 0)), decision(True))
    assert not adjusted.matched
    assert adjusted.reason.startswith("feedback: like a-0, judged not relevant")
    far = hook.adjust(WATCH, encoding(unit(0, 1, 0)), decision(True))
    assert far.matched, "an article unlike the judged one is decided as before"


def test_a_miss_close_to_an_article_judged_relevant_matches_inside_the_regions_only():
    hook = examples((unit(1, 0, 0), True))
    assert hook.adjust(WATCH, encoding(unit(1, 0.1, 0)), decision(False)).matched
    assert hook.adjust(
        REGIONAL, encoding(unit(1, 0.1, 0)), decision(False, ["Balochistan"])
    ).matched
    assert not hook.adjust(REGIONAL, encoding(unit(1, 0.1, 0)), decision(False)).matched


def test_judgements_both_ways_nearby_leave_the_decision_alone():
    hook = examples((unit(1, 0, 0), False), (unit(1, 0.05, 0), True))
    assert hook.adjust(WATCH, encoding(unit(1, 0.02, 0)), decision(True)).matched


def test_other_watches_are_not_touched():
    hook = examples((unit(1, 0, 0), False))
    other = WatchMatch("other", True, 0.5, 0.4, "lead")
    assert (
        hook.adjust(SimpleNamespace(name="other", regions=[]), encoding(unit(1, 0, 0)), other)
        is other
    )


@given(
    st.lists(
        st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(0.1, 1), st.booleans()),
        max_size=8,
    ),
    st.booleans(),
)
def test_only_a_close_judgement_against_the_decision_overturns_it(judged, matched):
    vectors = [(unit(x, y, z), relevant) for x, y, z, relevant in judged]
    hook = examples(*vectors)
    article = unit(0.3, 0.3, 1)
    adjusted = hook.adjust(WATCH, encoding(article), decision(matched))
    against = [float(v @ article) for v, relevant in vectors if relevant != matched]
    agreeing = [float(v @ article) for v, relevant in vectors if relevant == matched]
    closest, agreeing_closest = max(against, default=-1.0), max(agreeing, default=-1.0)
    assume(abs(closest - 0.9) > 1e-4 and abs(closest - agreeing_closest - 0.05) > 1e-4)
    expected_flip = closest >= 0.9 and closest >= agreeing_closest + 0.05
    assert adjusted.matched == (not matched if expected_flip else matched)
