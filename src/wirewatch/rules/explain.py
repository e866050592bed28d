"""Human-readable explanation of one article against every watch (``wirewatch explain``)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from wirewatch.models import Article, ArticleEncoding, PlaceHit, WatchMatch
from wirewatch.rules.matcher import (
    REFERENCE_VECTORS,
    describe_place,
    reference_texts,
    trim,
)

TOP_PASSAGES = 3
WIDTH = 100


def format_explanation(
    article: Article,
    encoding: ArticleEncoding,
    matches: Sequence[WatchMatch],
    watches: Sequence[Any],
    vectors: dict[str, np.ndarray] | None = None,
) -> str:
    """Per watch: decision, score vs threshold, best passages, places and region, reason.

    Passage scores use the watch's reference vectors: ``vectors`` (watch name -> array) when
    given, else those a Matcher prepared in this process; without either, only the best
    passage (the evidence) is shown, with the article score.
    """
    by_name = {w.name: w for w in watches}
    lines = [
        f"Article: {article.title}",
        f"  {article.url or article.id} ({article.outlet})",
        f"  {len(encoding.passages)} passages; places: {_places_line(encoding.places)}",
        "",
    ]
    for match in matches:
        watch = by_name.get(match.watch)
        refs = (vectors or {}).get(match.watch)
        if refs is None and watch is not None:
            refs = REFERENCE_VECTORS.get(tuple(reference_texts(watch)))
        lines += _watch_block(match, watch, encoding, refs)
        lines.append("")
    return "\n".join(lines).rstrip()


def _watch_block(
    match: WatchMatch, watch: Any, encoding: ArticleEncoding, refs: np.ndarray | None
) -> list[str]:
    verdict = "MATCH" if match.matched else "no match"
    sign = "≥" if match.score >= match.threshold else "<"
    lines = [
        f"== {match.watch}: {verdict}  (score {match.score:.3f} {sign} "
        f"threshold {match.threshold:.2f})"
    ]
    lines.append("   top passages (similarity to the closest reference):")
    for index, score in _top_passages(match, encoding, refs):
        label = _label(index, encoding)
        body = textwrap.shorten(encoding.passages[index], WIDTH - 18, placeholder=" …")
        lines.append(f"     {score:.3f} [{label:>4}] {body}")
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


def _top_passages(
    match: WatchMatch, encoding: ArticleEncoding, refs: np.ndarray | None
) -> list[tuple[int, float]]:
    if refs is None or len(encoding.passages) == 0:
        best = _evidence_index(match, encoding)
        return [(best, match.score)]
    raw = (encoding.vectors @ refs.T).max(axis=1)
    order = np.argsort(-raw)[:TOP_PASSAGES]
    return [(int(i), float(raw[i])) for i in order]


def _label(index: int, encoding: ArticleEncoding) -> str:
    if index == 0:
        return "lead"
    if index == 1 and encoding.leads == 2:
        return "head"
    return f"#{index}"


def _evidence_index(match: WatchMatch, encoding: ArticleEncoding) -> int:
    for i, passage in enumerate(encoding.passages):
        if trim(passage) == match.evidence:
            return i
    return 0


def _places_line(places: Sequence[PlaceHit]) -> str:
    if not places:
        return "none"
    return "; ".join(describe_place(p) + (" [lead]" if p.in_lead else "") for p in places[:8])
