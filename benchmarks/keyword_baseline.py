"""The keyword baseline: a Google-Alerts-style boolean query per watch.

A query is an AND of OR-groups; a term is a word or a quoted phrase, matched case-insensitively
on word boundaries anywhere in the title or text, and a term ending in ``*`` matches any
ending (``attack*`` matches "attacks", "attacked"). This is what an analyst types into an
alerting service that only knows words; wirewatch must beat it clearly (issue: ≥ 10 F1 points).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# For the watches of config/watches.example.yaml: what a careful analyst would type.
QUERIES: dict[str, list[list[str]]] = {
    "balochistan-attacks": [
        ["attack*", "assault*", "bomb*", "blast*", "gunmen", "militant*", "raid*"],
        ["coordinated", "simultaneous*", "multiple", "several", "twin", "series of", "wave of"],
        ["Balochistan", "Baluchistan", "Quetta"],
    ],
    "pakistan-attacks": [
        ["attack*", "bomb*", "blast*", "suicide", "gunmen", "militant*", "terrorist*"],
        ["Pakistan*"],
    ],
    "pakistan-internet-shutdowns": [
        ["internet", "mobile data", "mobile service*", "telecom", "social media", "broadband"],
        ["shutdown*", "shut down", "suspend*", "suspension", "block*", "blackout", "ban*", "cut"],
        ["Pakistan*"],
    ],
    "internet-shutdowns": [
        ["internet", "mobile data", "mobile service*", "telecom", "social media", "broadband"],
        ["shutdown*", "shut down", "suspend*", "suspension", "block*", "blackout", "ban*", "cut"],
    ],
}
_ATTACK = ["attack*", "assault*", "bomb*", "blast*", "suicide", "gunmen", "militant*", "raid*"]
_COORDINATED = [
    "coordinated",
    "simultaneous*",
    "multiple",
    "several",
    "twin",
    "series of",
    "wave of",
]
# For the day-one watches of benchmarks/watches.dayone.yaml (issue 16).
QUERIES |= {
    "balochistan-militant-attacks": [_ATTACK, ["Balochistan", "Baluchistan", "Quetta"]],
    "pakistan-coordinated-attacks": [_ATTACK, _COORDINATED, ["Pakistan*"]],
    "sahel-coordinated-attacks": [_ATTACK, _COORDINATED, ["Mali*", "Niger", "Burkin*"]],
}


def _pattern(term: str) -> str:
    stem = term.rstrip("*")
    body = r"\s+".join(re.escape(word) for word in stem.split())
    return rf"\b{body}\w*" if term.endswith("*") else rf"\b{body}\b"


@dataclass(frozen=True)
class KeywordQuery:
    groups: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, groups: list[list[str]]) -> KeywordQuery:
        return cls(
            tuple(re.compile("|".join(_pattern(t) for t in g), re.IGNORECASE) for g in groups)
        )

    def matches(self, title: str, text: str) -> bool:
        document = f"{title}\n{text}"
        return all(group.search(document) for group in self.groups)
