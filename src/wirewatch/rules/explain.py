"""Human-readable explanation of one article against every watch (``wirewatch explain``)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from wirewatch import defaults
from wirewatch.models import Article, ArticleEncoding, PlaceHit, WatchMatch
from wirewatch.rules.leads import MODEL_LABEL
from wirewatch.rules.prepared import PreparedWatch
from wirewatch.rules.region_gate import describe_place

WIDTH = 100


def format_explanation(
    article: Article,
    encoding: ArticleEncoding,
    matches: Sequence[WatchMatch],
    watches: Sequence[Any],
    prepared: Sequence[PreparedWatch] = (),
    model: str = defaults.MODEL_NAME,
) -> str:
    """Per watch: decision, score vs threshold, best passages, places and region, reason,
    and (given the matcher's ``prepared`` watches) the words each exclude phrase listens for.
    """
    by_name = {w.name: w for w in watches}
    prepared_by_name = {p.name: p for p in prepared}
    lines = [
        f"Article: {article.title}",
        f"  {article.url or article.id} ({article.outlet})",
        f"  {len(encoding.passages)} passages; places: {_places_line(encoding.places)}",
    ]
    if encoding.english_reading:
        read = len(encoding.vectors) or "none"
        lines.append(
            f"  the English model ({model}) read {read} of them: {encoding.english_reading}"
        )
    if encoding.story_vector is not None:
        lines.append(f"  stories group it by {MODEL_LABEL}'s title and lead vector")
    if encoding.events is not None:
        read = ", ".join(f"{label} {p:.2f}" for label, p in encoding.events.items())
        what = encoding.event_reading or "title and lead"
        lines.append(f"  event detectors, read by {MODEL_LABEL} ({what}): {read}")
    language = (article.language or "").lower()
    bound = any(p.event for p in prepared)
    if language and not language.startswith("en") and model == defaults.MODEL_NAME and bound:
        lines.append(
            f"  language: {language}; the default model reads English, so similarity scores "
            "run low; the event detectors of bound watches read every language"
        )
    elif language and not language.startswith("en") and model == defaults.MODEL_NAME:
        lines.append(
            f"  language: {language}; the default model reads English, so the scores of an "
            'article in another language run low (docs/matching.md, "Other languages")'
        )
    if encoding.opinion:
        lines.append("  marked as opinion (headline or address): it reports no new event")
    lines.append("")
    for match in matches:
        lines += _watch_block(match, by_name.get(match.watch), encoding)
        if match.watch in prepared_by_name:
            lines += _detector_line(prepared_by_name[match.watch], model)
            lines += _exclude_words(prepared_by_name[match.watch])
        lines.append("")
    return "\n".join(lines).rstrip()


def _watch_block(match: WatchMatch, watch: Any, encoding: ArticleEncoding) -> list[str]:
    verdict = "MATCH" if match.matched else "no match"
    sign = "≥" if match.score >= match.threshold else "<"
    lines = [
        f"== {match.watch}: {verdict}  (score {match.score:.3f} {sign} "
        f"threshold {match.threshold:.2f})"
    ]
    lines.append("   top passages (similarity to the closest reference):")
    for index, similarity in match.top_passages:
        label = _label(index, encoding)
        body = textwrap.shorten(encoding.passages[index], WIDTH - 18, placeholder=" …")
        lines.append(f"     {similarity:.3f} [{label:>4}] {body}")
    regions = list(getattr(watch, "regions", None) or []) if watch is not None else []
    if regions:
        lines.append(f"   regions: {', '.join(regions)}")
        inside = set(match.places)
        for hit in encoding.places:
            mark = "inside" if hit.resolved in inside else "outside"
            where = "lead" if hit.in_lead else "body"
            lines.append(f"     {hit.name:<24} {describe_place(hit):<40} {where}  {mark}")
        if not encoding.places:
            lines.append("     (no places found)")
    if match.excluded_by:
        lines.append(f"   excluded by: {match.excluded_by!r}")
    lines.append(f"   reason: {match.reason}")
    return lines


def _detector_line(watch: PreparedWatch, model: str) -> list[str]:
    """Which detector decides the watch, and which model read the article for it."""
    if watch.event is None:
        return [f"   decided by similarity ({model}); no event detector"]
    text = watch.event_probabilities.get(watch.event)
    why = f"its text reads {text:.2f} {watch.event}" if text is not None else "event set"
    floor = "; a specific watch: its similarity must agree" if watch.specific else ""
    return [
        f"   decided by detector {watch.event} ({why}{floor}), read by {MODEL_LABEL}",
    ]


def _exclude_words(watch: PreparedWatch) -> list[str]:
    """Each exclude phrase with the words that make a headline count for it: a word the
    watched event itself may use ("cut" of "cable cut") would exclude real events."""
    if watch.excludes is None:
        return []
    lines = ["   exclude phrases, and the headline words that count for them:"]
    for phrase, words in zip(watch.excludes.texts, watch.exclude_word_forms, strict=True):
        shown = textwrap.shorten(phrase, 60, placeholder=" …")
        lines.append(f"     {shown!r}: {', '.join(words) if words else '(none: similarity only)'}")
    return lines


def _label(index: int, encoding: ArticleEncoding) -> str:
    if index == 0:
        return "lead"
    if index == 1 and encoding.leads == 2:
        return "head"
    return f"#{index - encoding.leads + 1}"


def _places_line(places: Sequence[PlaceHit]) -> str:
    if not places:
        return "none"
    return "; ".join(describe_place(p) + (" [lead]" if p.in_lead else "") for p in places[:8])
