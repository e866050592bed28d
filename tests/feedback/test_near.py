"""A false alarm judged not relevant drops a report of the same kind from another outlet, where
the detector is not sure of it; undoing the judgement brings it back.

The analyst of a coordinated-attacks watch judges an English report of one ambush (the
detector reads it as a coordinated attack, just above its threshold) "not relevant". Another
outlet's report of another single ambush, later, no longer fires the watch: the two read alike
to the detectors' multilingual lead feature (feedback/near.py), while the English model's
near-copy rule does not see them as copies (with the rule off, the report still fires). A
coordinated assault still fires. Through the real `wirewatch backtest --feedback` (the
service's store and hook) and the real models; the undo through the hook as the service's
learner rebuilds it. (Reports of these ambushes in Spanish or French, which the detectors
retrained on 1,747 items read as single attacks, no longer need a judgement.)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.feedback.test_adapts import COORDINATED, SINGLE_ATTACKS, Report, judged
from tests.feedback.test_backtest_feedback import SEED, WATCH, backtest, corpus_line
from tests.fixtures.configs import attacks_watch, service_config, sqlite
from wirewatch import defaults
from wirewatch.feedback.examples import Example, FeedbackExamples
from wirewatch.models import ArticleEncoding, WatchMatch
from wirewatch.rules.events import EventDetectors

pytestmark = pytest.mark.slow
EVENT = "coordinated_attack"
BOUND = SimpleNamespace(name=WATCH, regions=[], event=EVENT, specific=False)  # as the matcher's

ENGLISH = SINGLE_ATTACKS[1]  # the ambush near Turbat, read just above the threshold
LATER = SINGLE_ATTACKS[3]._replace(outlet="frontier-post")  # the Awaran ambush, likewise


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    lines = [
        corpus_line("en-1", ENGLISH, 1),
        corpus_line("en-2", LATER, 2),
        corpus_line("c-1", SEED, 3),
    ]
    path.write_text("\n".join(lines) + "\n")
    config = service_config(tmp_path, storage=sqlite(tmp_path / "w.db"), watches=[attacks_watch()])
    return tmp_path, str(config), str(path)


def test_a_judged_false_alarm_drops_a_like_report_from_another_outlet(corpus, monkeypatch):
    tmp_path, config, path = corpus
    before = backtest(tmp_path, config, path)
    assert before["en-1"] and before["en-2"] and before["c-1"], "the day-one watch fires on all"

    judgements = judged(tmp_path, ["en-1"], [])
    after = backtest(tmp_path, config, path, "--feedback", judgements)
    assert after["en-2"] == [], "the like report of the judged false alarm no longer fires"
    assert after["c-1"] != [], "a coordinated assault still does"

    monkeypatch.setattr(defaults, "FEEDBACK_NEAR", False)
    without = backtest(tmp_path, config, path, "--feedback", judgements)
    assert without["en-2"] != [], "the English near-copy rule alone keeps it: this rule drops it"


@pytest.fixture(scope="module")
def detectors() -> EventDetectors:
    return EventDetectors.load()


def read(detectors: EventDetectors, report: Report) -> tuple[ArticleEncoding, WatchMatch]:
    """The article as the matcher hands it to the hook, decided by the detector alone."""
    features = detectors.features_of([(report.title, report.text)])[0]
    events = detectors.probabilities(features[None, :])[0]
    encoding = ArticleEncoding(
        passages=["lead"],
        vectors=np.zeros((0, 8), dtype=np.float32),  # no English vector: no near-copy rule
        places=[],
        events=events,
        event_features=features,
        event_kinds=detectors.head.probabilities(features[None, :])[0],
    )
    threshold = detectors.threshold(EVENT)
    p = events[EVENT]
    return encoding, WatchMatch(WATCH, p >= threshold, round(p, 4), threshold, "lead", reason="d")


def test_undoing_the_judgement_brings_the_report_back(detectors):
    english, later = read(detectors, ENGLISH), read(detectors, LATER)
    assert later[1].matched, "the day-one watch fires on the later report"
    example = Example("en-1", False, 1, np.zeros(8, np.float32), english[0].event_features)
    options = {"detectors": detectors, "events": {WATCH: EVENT}}
    judged_hook = FeedbackExamples({WATCH: [example]}, **options)
    dropped = judged_hook.adjust(BOUND, *later)
    assert not dropped.matched
    assert dropped.reason.startswith("feedback: like en-1, judged not relevant (#1, detectors'")

    undone = FeedbackExamples({WATCH: []}, previous=judged_hook, **options)  # the learner's
    assert undone.adjust(BOUND, *later) is later[1], "undone: the day-one decision again"


def test_a_confident_detector_is_not_overruled_by_a_near_false_alarm(detectors):
    english = read(detectors, ENGLISH)
    confident = read(detectors, COORDINATED)  # simultaneous assaults, read well above
    example = Example("en-1", False, 1, np.zeros(8, np.float32), english[0].event_features)
    hook = FeedbackExamples({WATCH: [example]}, detectors=detectors, events={WATCH: EVENT})
    assert confident[1].matched and margin(confident[1]) > defaults.FEEDBACK_NEAR_MARGIN
    assert hook.adjust(BOUND, *confident) is confident[1]


def margin(match: WatchMatch) -> float:
    def logit(p: float) -> float:
        return float(np.log(p / (1 - p)))

    return logit(match.score) - logit(match.threshold)
