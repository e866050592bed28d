"""What the English model reads of each article: the cascade of docs/matching.md ("What the
English model reads").

The English sentence model reads a prefix of an article's passages (rules/passages.py):
always the lead passages (lead and headline: stories, feedback and exclude phrases compare
them); the sentences past them only when a decision may use them:

- a watch decided by similarity (unbound, specific or with examples, ``by_similarity``):
  every sentence of every article, as the similarity path needs;
- an opinion piece only when a watch includes opinion pieces (those decide by similarity);
- else, every watch being bound to a detector, when the detectors' reading of the lead makes
  a second event plausible: some label reaches ``SENTENCE_SCREEN_PROBABILITY`` while some bound
  watch's detector does not fire on the lead (its sentence path, rules/verdict.py, may). An
  article whose lead fires every bound watch, or reads nothing near any type, needs no more;
  nor does one not written in the Latin script: the sentence path needs the English model's
  similarity to reach the watch's threshold, which it does not on Urdu, Arabic, Hindi or
  Russian sentences (on the training part it found a second event in English reports only),
  and their words cost it several tokens each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wirewatch import defaults
from wirewatch.rules.prepared import PreparedWatch


@dataclass(frozen=True)
class EnglishReading:
    """How many passages (from the first) the English model reads, and why."""

    passages: int
    why: str


def lead_passages(
    passages: list[str], leads: int, words: int = defaults.LEAD_ENCODER_WORDS
) -> list[str]:
    """The lead passages and the text's sentences that begin within its first ``words`` words:
    those the detectors read too, so a second event stated there is still read alone."""
    kept, seen = passages[:leads], 0
    for sentence in passages[leads:]:
        if seen >= words:
            break
        kept.append(sentence)
        seen += len(sentence.split())
    return kept


def latin_script(text: str) -> bool:
    """Whether most of the letters of ``text`` are Latin (what the English model reads)."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(c < "\u0250" or "\u1e00" <= c < "\u1f00" for c in letters)
    return 2 * latin >= len(letters)


def needs_every_sentence(watches: Sequence[PreparedWatch]) -> bool:
    """Whether some watch's similarity over every sentence may decide it."""
    return any(w.by_similarity for w in watches)


def english_reading(
    watches: Sequence[PreparedWatch],
    passages: int,
    leads: int,
    events: Mapping[str, float] | None,
    thresholds: Mapping[str, float],
    opinion: bool,
    latin: bool = True,
    screen: float = defaults.SENTENCE_SCREEN_PROBABILITY,
) -> EnglishReading:
    """What the English model reads of one article with ``passages`` passages, ``leads`` of
    them the lead, given the detectors' reading of its lead (``events``), their decision
    ``thresholds`` and whether its text is in the Latin script (``latin``): see the module's
    docstring."""
    if passages <= leads:
        return EnglishReading(passages, "every sentence (the lead is the whole article)")
    if needs_every_sentence(watches) or events is None:
        return EnglishReading(passages, "every sentence (a watch decides by similarity)")
    if opinion:
        if any(w.include_opinion for w in watches):
            return EnglishReading(passages, "every sentence (an opinion piece; a watch wants them)")
        return EnglishReading(leads, "the lead only (an opinion piece)")
    unfired = [w.event for w in watches if w.event and events[w.event] < thresholds[w.event]]
    if not unfired:
        return EnglishReading(leads, "the lead only (it fires every bound watch)")
    if not latin:
        return EnglishReading(leads, "the lead only (not in the Latin script)")
    label, probability = max(events.items(), key=lambda kv: kv[1])
    if probability < screen:
        return EnglishReading(
            leads,
            f"the lead only (the detectors read at most {label} {probability:.2f} on it, "
            f"< {screen:.2f})",
        )
    return EnglishReading(
        passages,
        f"every sentence (the lead reads {label} {probability:.2f} ≥ {screen:.2f}; "
        f"{', '.join(dict.fromkeys(unfired))} did not fire on it)",
    )
