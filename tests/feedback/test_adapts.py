"""A watch decided by a learned detector learns from a few judgements, beyond copies.

The analyst of a coordinated-attacks watch judges three big single attacks (one bomber or
one blast each) "not relevant" and one coordinated assault "relevant": a fourth single
attack, another event, no longer fires the watch, while another coordinated assault still
does. Through the real `wirewatch backtest --feedback` (the service's store and hook) and
the real models. The correction is a vote of at most one logit (docs/feedback.md): it
overturns a detector's borderline false alarm like the judged ones, as the fourth attack is
here, not a confident one.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest

from tests.feedback.test_backtest_feedback import SEED, WATCH, backtest, corpus_line
from tests.fixtures.configs import attacks_watch, service_config, sqlite

pytestmark = pytest.mark.slow


class Report(NamedTuple):
    title: str
    text: str
    outlet: str = "quetta-wire"


SINGLE_ATTACKS = [
    Report(
        "Suicide bomber kills 24 at police training centre in Quetta",
        "A suicide bomber blew himself up at the gate of a police training centre in Quetta on "
        "Monday morning, killing 24 recruits and wounding more than 40, officials said. The "
        "bomber, on foot, detonated his vest as recruits lined up for the morning parade. "
        "Hospitals in the city declared an emergency.",
    ),
    Report(
        "Bomb on passenger bus kills 17 near Turbat",
        "A bomb planted on a passenger bus exploded near Turbat in Balochistan on Wednesday, "
        "killing 17 people including women and children, police said. The remote-controlled "
        "device had been hidden under a seat, investigators said. No group has claimed it.",
    ),
    Report(
        "Blast at crowded market in Khuzdar leaves 19 dead",
        "A powerful explosion tore through a crowded vegetable market in Khuzdar on Friday, "
        "killing 19 people and wounding dozens, the district administration said. The bomb was "
        "packed in a motorcycle parked near the fruit stalls, police said.",
    ),
    Report(
        "Suicide bomber kills 15 at Levies post in Mastung",
        "A suicide bomber blew himself up at a Levies post in Mastung on Saturday, killing 15 "
        "personnel and wounding 20, officials said. The attacker detonated his explosives vest "
        "at the entrance. Rescue officials said the death toll could rise.",
    ),
]


COORDINATED = Report(
    "Gunmen and suicide bombers storm army camps in Panjgur and Noshki at the same time",
    "Militants launched simultaneous assaults on two army camps in Panjgur and Noshki late on "
    "Wednesday, with suicide bombers blasting the gates before gunmen stormed inside, the "
    "military said. Fighting went on through the night at both camps; a separatist group said "
    "its fighters had attacked in several places at once.",
)


@pytest.fixture
def corpus(tmp_path):
    """Three single attacks and a coordinated assault, then a fourth single attack and the
    coordinated assault of the demo, one a day."""
    path = tmp_path / "corpus.jsonl"
    lines = [corpus_line(f"s-{n}", report, n) for n, report in enumerate(SINGLE_ATTACKS[:3], 1)]
    lines.append(corpus_line("c-0", COORDINATED, 4))
    lines.append(corpus_line("s-4", SINGLE_ATTACKS[3], 5))
    lines.append(corpus_line("c-1", SEED, 6))
    path.write_text("\n".join(lines) + "\n")
    config = service_config(tmp_path, storage=sqlite(tmp_path / "w.db"), watches=[attacks_watch()])
    return tmp_path, str(config), str(path)


def judged(tmp_path, not_relevant: list[str], relevant: list[str]) -> str:
    path = tmp_path / "judgements.jsonl"
    verdicts = [(i, False) for i in not_relevant] + [(i, True) for i in relevant]
    lines = [json.dumps({"id": i, "watch": WATCH, "relevant": r}) for i, r in verdicts]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_single_attacks_judged_not_relevant_stop_another_but_not_a_coordinated_one(corpus):
    tmp_path, config, path = corpus
    before = backtest(tmp_path, config, path)
    assert before["s-4"] and before["c-1"], "the day-one watch reads them all as coordinated"

    judgements = judged(tmp_path, ["s-1", "s-2", "s-3"], ["c-0"])
    after = backtest(tmp_path, config, path, "--feedback", judgements)
    assert after["s-4"] == [], "a fourth, different single attack no longer fires the watch"
    assert after["c-1"] != [], "a coordinated assault still does"


def test_one_false_alarm_judged_drops_a_like_one_only(corpus):
    tmp_path, config, path = corpus
    after = backtest(tmp_path, config, path, "--feedback", judged(tmp_path, ["s-1"], []))
    assert after["s-4"] == [], "read by the detector as the same kind of event as s-1"
    assert after["c-0"] != [] and after["c-1"] != [], "coordinated assaults are unlike it"
