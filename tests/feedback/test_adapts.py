"""A watch decided by a learned detector learns from a few judgements, beyond copies.

The analyst of a coordinated-attacks watch judges three single attacks (one group firing on
one target each) "not relevant" and one coordinated assault "relevant": a fourth single
attack, another event, no longer fires the watch, while another coordinated assault still
does. Through the real `wirewatch backtest --feedback` (the service's store and hook) and
the real models. The adaptation is the default's (docs/feedback.md): the fourth ambush reads
like the judged ones to the detectors and the detector fires on it only weakly, so it is
dropped; the coordinated assault reads less like them, and is kept.
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


SINGLE_ATTACKS = [  # one group, one target, guns only: ambushes of one convoy or patrol,
    # which the detector still reads as complex assaults (docs/matching.md, "Learned detectors")
    Report(
        "Militants ambush army convoy in Kech, killing 9 soldiers",
        "Militants ambushed an army convoy in Kech district of Balochistan on Tuesday, killing "
        "nine soldiers and wounding five, the military said. The attackers opened fire from the "
        "hills as the vehicles passed. A separatist group claimed the attack.",
    ),
    Report(
        "Militants ambush FC convoy near Turbat, six soldiers killed",
        "Militants ambushed a Frontier Corps convoy near Turbat in Balochistan on Sunday, "
        "killing six soldiers and wounding four, officials said. The attackers fired on the "
        "vehicles from the hills and fled. A separatist group claimed responsibility.",
    ),
    Report(
        "Militants ambush Levies vehicle in Kalat, four personnel killed",
        "Militants ambushed a Levies force vehicle in Kalat district of Balochistan on "
        "Wednesday, killing four personnel, the deputy commissioner said. The attackers fired "
        "from the hills as the vehicle passed. A banned separatist group claimed the attack.",
    ),
    Report(
        "Militants ambush army convoy in Awaran, eight soldiers killed",
        "Militants ambushed an army convoy in Awaran district of Balochistan on Monday, killing "
        "eight soldiers, the military said. The attackers opened fire from the mountains as the "
        "convoy passed and then fled. A separatist group claimed the attack.",
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
    assert before["s-4"] and before["c-1"], "the day-one watch reads both as coordinated"

    judgements = judged(tmp_path, ["s-1", "s-2", "s-3"], ["c-0"])
    after = backtest(tmp_path, config, path, "--feedback", judgements)
    assert after["s-4"] == [], "a fourth, different single attack no longer fires the watch"
    assert after["c-1"] != [], "a coordinated assault still does"
