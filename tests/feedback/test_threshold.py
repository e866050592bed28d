"""A detector watch's own threshold, chosen from its judgements (feedback/threshold.py).

Articles the detector reads just above the watch's threshold are judged not relevant, clear
ones relevant: the next article read just above the threshold is no longer alerted, a clear
one still is; a judgement or two barely move the threshold; undoing the judgements restores
the day-one decision.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from wirewatch.feedback.correction import logit
from wirewatch.feedback.examples import Example, FeedbackExamples
from wirewatch.feedback.threshold import WatchThreshold, separating_cut
from wirewatch.models import ArticleEncoding, WatchMatch

EVENT = "coordinated_attack"
SHIPPED = 0.30  # the detector's threshold
WATCH = SimpleNamespace(name="w", regions=[], event=EVENT, specific=False)
THRESHOLD_ONLY = {"kind": "vote", "weight": 0.0, "threshold": {"prior": 10}, "near": None}


class Detectors:
    """What the threshold reads of the detectors: their threshold for the watch's event."""

    def threshold(self, event: str) -> float:
        assert event == EVENT
        return SHIPPED


def article(p: float, seed: int) -> tuple[ArticleEncoding, WatchMatch]:
    """An article the detector reads as ``p`` (a lead unlike every other: no near copy)."""
    lead = np.random.default_rng(seed).normal(size=16).astype(np.float32)
    encoding = ArticleEncoding(
        passages=["lead"],
        vectors=(lead / np.linalg.norm(lead))[None, :],
        places=[],
        events={EVENT: p},
        event_features=np.ones(4, dtype=np.float32),
        event_kinds=np.full(4, 0.25),
    )
    return encoding, WatchMatch("w", p >= SHIPPED, p, SHIPPED, "lead", reason="detector")


def judged(*verdicts: tuple[float, bool]) -> FeedbackExamples:
    examples = []
    for i, (p, relevant) in enumerate(verdicts):
        encoding, _ = article(p, 1000 + i)
        margin = float(logit(p) - logit(SHIPPED))
        lead, read, kinds = encoding.vectors[0], np.ones(4), np.full(4, 0.25)
        examples.append(Example(f"a-{i}", relevant, i, lead, read, kinds, margin))
    return FeedbackExamples(
        {"w": examples} if examples else {},
        correction=THRESHOLD_ONLY,
        detectors=Detectors(),
        events={"w": EVENT},
    )


NEAR = [0.31, 0.33, 0.35, 0.32, 0.34, 0.36, 0.33, 0.35]  # read just above the threshold
CLEAR = [0.8, 0.9, 0.85, 0.95, 0.75, 0.88, 0.92, 0.83]


def test_false_alarms_near_the_threshold_raise_it_a_clear_report_still_fires():
    hook = judged(*[(p, False) for p in NEAR], *[(p, True) for p in CLEAR])
    encoding, day_one = article(0.34, 1)
    assert day_one.matched, "the day-one watch alerts on it"
    adjusted = hook.adjust(WATCH, encoding, day_one)
    assert not adjusted.matched
    assert "judgements set this watch's coordinated_attack threshold" in adjusted.reason
    assert hook.adjust(WATCH, *article(0.7, 2)).matched
    undone = judged()  # every judgement undone
    assert undone.adjust(WATCH, encoding, day_one) is day_one


def test_one_false_alarm_moves_the_threshold_little():
    one = judged((0.34, False))
    encoding, day_one = article(0.33, 3)
    assert one.adjust(WATCH, encoding, day_one).matched, "one judgement is not enough"


def test_it_never_turns_a_miss_into_an_alert_by_default():
    hook = judged(*[(p, True) for p in (0.2, 0.25, 0.22, 0.9, 0.8)] * 4)
    encoding, day_one = article(0.24, 4)
    assert not hook.adjust(WATCH, encoding, day_one).matched


def test_a_watch_decided_by_similarity_has_no_threshold_of_its_own():
    hook = FeedbackExamples(
        {"w": judged(*[(p, False) for p in NEAR]).by_watch["w"].examples},
        correction=THRESHOLD_ONLY,
        detectors=Detectors(),
        events={},
    )
    assert hook.by_watch["w"].threshold is None


@given(
    st.lists(
        st.tuples(st.integers(-800, 800).map(lambda v: v / 100), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.floats(0.5, 50),
)
def test_the_cut_separates_best_and_shrinking_keeps_it_between_zero_and_the_cut(judgements, prior):
    margins = [m for m, _ in judgements]
    relevant = [r for _, r in judgements]
    cut = separating_cut(margins, relevant)

    def errors(c: float) -> int:
        return sum((m < c) == r for m, r in judgements)

    assert all(errors(cut) <= errors(c) for c in [0.0, *margins, *(m + 1e-9 for m in margins)])
    threshold = WatchThreshold.of(margins, relevant, SHIPPED, prior, promotes=True)
    assert threshold is not None and min(0.0, cut) <= threshold.shift <= max(0.0, cut)
