"""The threshold `wirewatch suggest` proposes from the judged articles' recorded scores."""

from __future__ import annotations

from wirewatch.feedback.suggest import Judged, best_threshold


def judged(score: float, relevant: bool) -> Judged:
    return Judged("title", relevant, matched=score >= 0.40, score=score)


def test_a_threshold_between_false_alarms_and_relevant_reports_is_proposed():
    scores = [judged(0.42, False), judged(0.45, False), judged(0.55, True), judged(0.61, True)]
    assert best_threshold(scores, current=0.40) == 0.5


def test_no_threshold_when_the_current_one_already_decides_as_well():
    assert best_threshold([judged(0.3, False), judged(0.6, True)], current=0.40) is None
    assert best_threshold([judged(0.6, True)], current=0.40) is None  # one side only
    unknown = [Judged("t", False, True, None), Judged("t", True, True, None)]
    assert best_threshold(unknown, current=0.40) is None  # a detector's probabilities
