"""A sentence past the lead is read as a second event only beside a lead of another kind
(rules/verdict.py, docs/matching.md "Where the day-one watches go wrong")."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from wirewatch.config.schema import WatchConfig
from wirewatch.models import Article
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.settings import Rules

DAY_ONE = {  # as benchmarks/watches.dayone.yaml writes them: a topic, one sentence, a region
    "coordinated": (
        "coordinated attacks",
        "Militants carry out several simultaneous or linked assaults, or one complex assault "
        "with gunmen and suicide bombers.",
    ),
    "shutdowns": (
        "internet shutdown",
        "Authorities suspend or block mobile internet, data services or social media.",
    ),
}

COURT_BOMBING = (
    "ISLAMABAD - A suicide bomber blew himself up outside the district court complex in "
    "Islamabad on Tuesday, killing 12 people and wounding more than 20, police said.\n\n"
    "The bomber struck as lawyers and litigants were entering the building, officials said. "
    "Ambulances took the wounded to the Pakistan Institute of Medical Sciences.\n\n"
    "No group immediately claimed the bombing. Last year militants stormed several police "
    "stations and an army camp at the same time in coordinated assaults with gunmen and "
    "suicide bombers across the northwest.\n\n"
)
SINGLE_ATTACK = (
    "Suicide bomber kills 12 outside court in Islamabad",
    COURT_BOMBING + "The prime minister condemned the attack and ordered an inquiry.",
)
WITH_A_SHUTDOWN = (
    "Suicide bomber kills 12 outside court in Islamabad",
    COURT_BOMBING
    + "Mobile internet, data services and social media were suspended across Islamabad and "
    "Rawalpindi on the orders of the interior ministry, the telecom regulator said.",
)


def day_one_watches() -> list[WatchConfig]:
    return [
        WatchConfig.model_validate(
            {
                "name": name,
                "topic": topic,
                "description": description,
                "regions": ["Pakistan"],
                "notify": [],
            }
        )
        for name, (topic, description) in DAY_ONE.items()
    ]


def article(report: tuple[str, str], id: str) -> Article:
    return Article(id, "wire", report[0], report[1], datetime(2026, 1, 31, tzinfo=UTC))


@pytest.mark.slow
def test_a_single_attack_recalling_coordinated_ones_does_not_fire_a_coordinated_watch() -> None:
    """A single suicide bombing whose background paragraph recalls last year's coordinated
    assaults: that sentence, read alone, reads coordinated. Beside a lead that reports an
    attack already it is no second event, so the coordinated-attacks watch stays quiet (it
    fired before: ``second_event_other_kind`` off); a suspension of mobile internet stated
    once at the end of the same report is an event of another kind and still fires the
    shutdowns watch."""
    shipped = Matcher(day_one_watches(), Encoder(), Gazetteer.load())
    try:
        shipped.prepare()
        before = shipped.with_rules(Rules(second_event_other_kind=False))
        reports = [article(SINGLE_ATTACK, "single"), article(WITH_A_SHUTDOWN, "shutdown")]
        encodings = asyncio.run(shipped.encode_articles(reports))
        single, shutdown = (
            {m.watch: m for m in shipped.match(a, e)}
            for a, e in zip(reports, encodings, strict=True)
        )
        old = {m.watch: m for m in before.match(reports[0], encodings[0])}
    finally:
        shipped.close()
    assert encodings[0].events["attack"] >= shipped.detectors.threshold("attack")
    assert not single["coordinated"].matched, single["coordinated"].reason
    assert old["coordinated"].matched, old["coordinated"].reason
    assert "on the sentence 'Last year militants stormed" in old["coordinated"].reason
    assert not shutdown["coordinated"].matched, shutdown["coordinated"].reason
    assert shutdown["shutdowns"].matched, shutdown["shutdowns"].reason
    assert "on the sentence 'Mobile internet, data services" in shutdown["shutdowns"].reason
