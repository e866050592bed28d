"""What the English model reads of each article: the cascade of docs/matching.md ("What the
English model reads").

The English sentence model reads a prefix of an article's passages (rules/passages.py),
only what a decision may use. The lead passages (lead and headline) when a watch has exclude
phrases (they judge the lead) or the team's judgements compare leads (feedback/examples.py);
otherwise, every watch being bound to a detector and none needing it, nothing at all: stories
group articles by the detectors' multilingual vector (rules/leads.py ``story_vector``). The
sentences past the lead (and then the lead too: the score blends them) only when:

- a watch decided by similarity (unbound or specific, ``by_similarity``):
  every sentence of every article, as the similarity path needs;
- an opinion piece only when a watch includes opinion pieces (those decide by similarity);
- else, every watch being bound to a detector, when the detectors' reading of the lead makes
  a second event plausible: some label reaches ``SENTENCE_SCREEN_PROBABILITY`` while some bound
  watch's detector does not fire on the lead (its sentence path, rules/verdict.py, may), and
  the lead fires a detector of another kind than that watch's (the sentence path reads a
  second event only beside such a lead, ``second_event_other_kind``). An article whose lead
  fires every bound watch, or reads nothing near any type, or fires only the kinds of the
  watches that did not fire, needs no more;
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
from wirewatch.rules.verdict import another_kind


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


def needs_lead(watches: Sequence[PreparedWatch], judged: bool) -> bool:
    """Whether a decision compares the English model's lead: some watch's exclude phrases
    judge it, or the team's judgements (``judged``) compare it with the judged articles'."""
    return judged or any(w.excludes is not None for w in watches)


def english_reading(
    watches: Sequence[PreparedWatch],
    passages: int,
    leads: int,
    events: Mapping[str, float] | None,
    thresholds: Mapping[str, float],
    opinion: bool,
    latin: bool = True,
    screen: float = defaults.SENTENCE_SCREEN_PROBABILITY,
    lead: bool = True,
    other_kind: bool = True,
) -> EnglishReading:
    """What the English model reads of one article with ``passages`` passages, ``leads`` of
    them the lead, given the detectors' reading of its lead (``events``), their decision
    ``thresholds``, whether its text is in the Latin script (``latin``) and whether a decision
    compares its lead (``lead``, see ``needs_lead``) and whether a second event must be of
    another kind than the lead's (``other_kind``): see the module's docstring."""
    if needs_every_sentence(watches) or events is None:
        return EnglishReading(passages, "every sentence (a watch decides by similarity)")
    lead_only = EnglishReading(min(leads, passages), "the lead only")
    stop = lead_only if lead else EnglishReading(0, "nothing")
    if passages <= leads:
        return _because(stop, "the lead is the whole article")
    if opinion:
        if any(w.include_opinion for w in watches):
            return EnglishReading(passages, "every sentence (an opinion piece; a watch wants them)")
        return _because(stop, "an opinion piece")
    unfired = [w.event for w in watches if w.event and events[w.event] < thresholds[w.event]]
    if not unfired:
        return _because(stop, "it fires every bound watch")
    if not latin:
        return _because(stop, "not in the Latin script")
    label, probability = max(events.items(), key=lambda kv: kv[1])
    if probability < screen:
        return _because(
            stop, f"the detectors read at most {label} {probability:.2f} on it, < {screen:.2f}"
        )
    if other_kind:
        fired = {t for t, p in events.items() if p >= thresholds[t]}
        unfired = [event for event in unfired if another_kind(event, fired)]
        if not unfired:
            return _because(stop, "no event of another kind than the unfired watches' in its lead")
    return EnglishReading(
        passages,
        f"every sentence (the lead reads {label} {probability:.2f} ≥ {screen:.2f}; "
        f"{', '.join(dict.fromkeys(unfired))} did not fire on it)",
    )


def _because(reading: EnglishReading, why: str) -> EnglishReading:
    return EnglishReading(reading.passages, f"{reading.why} ({why})")
