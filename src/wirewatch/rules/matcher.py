"""Decide, for every watch, whether an article matches it; see docs/matching.md.

Each watch becomes reference vectors (its ``topic: description`` and each example) and
exclusion vectors (each ``exclude`` phrase). An article becomes passage vectors (lead and
headline first) and the places the gazetteer finds. A passage's similarity is its cosine to
the watch's closest reference; the score blends the lead's with the best passage's:
``LEAD_WEIGHT * lead + (1 - LEAD_WEIGHT) * max(lead, best body passage)``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wirewatch import defaults
from wirewatch.models import Article, ArticleEncoding, PlaceHit, WatchMatch
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.gazetteer import Gazetteer, Region
from wirewatch.rules.passages import lead_count, split_passages

# Reference vectors of every watch prepared in this process, by reference texts, so that
# ``explain`` can score passages per watch without loading the model again.
REFERENCE_VECTORS: dict[tuple[str, ...], np.ndarray] = {}


@dataclass
class PreparedWatch:
    """A watch turned into vectors and resolved regions."""

    name: str
    threshold: float
    exclude_threshold: float | None
    references: list[str]
    reference_vectors: np.ndarray
    excludes: list[str] = field(default_factory=list)
    exclude_vectors: np.ndarray | None = None
    regions: list[Region] = field(default_factory=list)


@dataclass
class Scored:
    """How one watch scored one article, before the exclusion and region decisions."""

    score: float
    best: int  # index of the best passage (the evidence; the lead when the headline is best)
    passage_scores: np.ndarray  # similarity of every passage to the closest reference
    exclusion: tuple[str, float] | None  # closest exclude phrase to the best passage


def reference_texts(watch: Any) -> list[str]:
    """What a watch is compared with: 'topic: description', then each example."""
    topic = (getattr(watch, "topic", "") or "").strip()
    description = (getattr(watch, "description", "") or "").strip()
    main = f"{topic}: {description}" if topic and description else topic or description
    examples = [e.strip() for e in getattr(watch, "examples", None) or [] if e.strip()]
    return [t for t in [main, *examples] if t] or [getattr(watch, "name", "")]


def blend(similarities: np.ndarray, leads: int) -> float:
    """The article's score from its passages' similarities (the first ``leads`` are the lead)."""
    lead = float(similarities[:leads].max())
    best = float(similarities.max())
    return defaults.LEAD_WEIGHT * lead + (1 - defaults.LEAD_WEIGHT) * max(lead, best)


def trim(text: str, limit: int = defaults.EVIDENCE_MAX_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


class Matcher:
    """Encodes articles and decides every watch on them."""

    def __init__(self, watches: Sequence[Any], encoder: Encoder, gazetteer: Gazetteer) -> None:
        self.watches = list(watches)
        self.encoder = encoder
        self.gazetteer = gazetteer
        self.prepared: list[PreparedWatch] = []
        self._ready = False
        self._lock = threading.Lock()

    # ---- set-up ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Load the model and encode every watch (slow, blocking: run it off the event loop)."""
        with self._lock:
            if self._ready:
                return
            self.encoder.load()
            self.prepared = [self._prepare_watch(w) for w in self.watches]
            self._ready = True

    def _prepare_watch(self, watch: Any) -> PreparedWatch:
        references = reference_texts(watch)
        excludes = [e.strip() for e in getattr(watch, "exclude", None) or [] if e.strip()]
        threshold = getattr(watch, "threshold", None)
        vectors = self.encoder.encode(references)
        REFERENCE_VECTORS[tuple(references)] = vectors
        return PreparedWatch(
            name=watch.name,
            threshold=defaults.WATCH_THRESHOLD if threshold is None else float(threshold),
            exclude_threshold=getattr(watch, "exclude_threshold", None),
            references=references,
            reference_vectors=vectors,
            excludes=excludes,
            exclude_vectors=self.encoder.encode(excludes) if excludes else None,
            regions=[self._region(name) for name in getattr(watch, "regions", None) or []],
        )

    def _region(self, name: str) -> Region:
        region = self.gazetteer.resolve_region(name)
        if region is None:
            hint = ", ".join(self.gazetteer.suggest(name)[:3])
            suffix = f" (did you mean {hint}?)" if hint else ""
            raise ValueError(f"unknown region {name!r}{suffix}")
        return region

    def close(self) -> None:
        self.encoder.close()

    # ---- encoding -------------------------------------------------------------------------
    def analyse(self, article: Article) -> tuple[list[str], int, list[PlaceHit]]:
        """Passages, how many of them are the lead, and places of one article (no model)."""
        passages = split_passages(article.title, article.text)
        places = self.gazetteer.find_places(article.title, article.text)
        return passages, lead_count(article.title, passages), places

    async def encode_articles(self, articles: Sequence[Article]) -> list[ArticleEncoding]:
        """Passages, vectors and places of each article; one encoder call for the batch."""
        if not self._ready:
            await asyncio.to_thread(self.prepare)
        analysed = await asyncio.to_thread(lambda: [self.analyse(a) for a in articles])
        texts = [p for passages, _, _ in analysed for p in passages]
        vectors = await self.encoder.encode_async(texts) if texts else None
        encodings, start = [], 0
        for passages, leads, places in analysed:
            end = start + len(passages)
            encodings.append(ArticleEncoding(passages, vectors[start:end], places, leads))  # type: ignore[index]
            start = end
        return encodings

    async def match_articles(
        self, articles: Sequence[Article]
    ) -> list[tuple[ArticleEncoding, list[WatchMatch]]]:
        encodings = await self.encode_articles(articles)
        return [(enc, self.match(a, enc)) for a, enc in zip(articles, encodings, strict=True)]

    # ---- deciding -------------------------------------------------------------------------
    def match(self, article: Article, encoding: ArticleEncoding) -> list[WatchMatch]:
        """One WatchMatch per watch, matched or not, with its reason."""
        if not self._ready:
            self.prepare()
        return [self._decide(w, encoding) for w in self.prepared]

    def score(self, watch: PreparedWatch, encoding: ArticleEncoding) -> Scored:
        similarities = (encoding.vectors @ watch.reference_vectors.T).max(axis=1)
        leads = encoding.leads
        best = int(np.argmax(similarities))
        exclusion = None
        if watch.exclude_vectors is not None:
            sims = watch.exclude_vectors @ encoding.vectors[best]
            closest = int(np.argmax(sims))
            exclusion = (watch.excludes[closest], float(sims[closest]))
        evidence = 0 if best < leads else best
        return Scored(blend(similarities, leads), evidence, similarities, exclusion)

    def excluded(self, watch: PreparedWatch, scored: Scored, encoding: ArticleEncoding) -> bool:
        """The best passage is about an exclude phrase rather than the watch.

        That is: its similarity to the phrase reaches the watch's threshold and beats its
        similarity to the watch (plus ``EXCLUDE_MARGIN``), or reaches ``exclude_threshold``.
        """
        if scored.exclusion is None:
            return False
        similarity = scored.exclusion[1]
        if watch.exclude_threshold is not None and similarity >= watch.exclude_threshold:
            return True
        watch_similarity = float(scored.passage_scores.max())
        return (
            similarity >= watch.threshold
            and similarity > watch_similarity + defaults.EXCLUDE_MARGIN
        )

    def _decide(self, watch: PreparedWatch, encoding: ArticleEncoding) -> WatchMatch:
        scored = self.score(watch, encoding)
        result = WatchMatch(
            watch=watch.name,
            matched=False,
            score=round(scored.score, 4),
            threshold=watch.threshold,
            evidence=trim(encoding.passages[scored.best]),
        )
        regions, inside = region_evidence(watch.regions, encoding.places)
        result.regions, result.places = regions, inside
        if self.excluded(watch, scored, encoding):
            phrase = scored.exclusion[0]  # type: ignore[index]
            result.excluded_by = phrase
            result.reason = f"excluded: closer to {trim(phrase, 60)!r} (score {scored.score:.2f})"
        elif scored.score < watch.threshold:
            result.reason = f"score {scored.score:.2f} < {watch.threshold:.2f}"
        elif watch.regions and not inside:
            result.reason = no_place_reason(watch.regions, encoding.places)
        else:
            result.matched = True
            where = f"; in {', '.join(regions)} via {', '.join(inside)}" if watch.regions else ""
            result.reason = f"score {scored.score:.2f} ≥ {watch.threshold:.2f}{where}"
        return result


def deciding_places(places: Sequence[PlaceHit]) -> list[PlaceHit]:
    """The places that decide the region gate: the lead's places in the article's main country.

    ``places`` come most salient first (see ``Gazetteer.find_places``), so the main country
    is that of the first one. Without any place in the lead, the body's places decide.
    """
    if not places:
        return []
    main = places[0].country
    lead = [p for p in places if p.in_lead and p.country == main]
    return lead or [p for p in places if p.country == main]


def region_evidence(
    regions: Sequence[Region], places: Sequence[PlaceHit]
) -> tuple[list[str], list[str]]:
    """Watched regions the article falls in, and the places that put it there."""
    names: list[str] = []
    inside: list[str] = []
    for hit in deciding_places(places):
        for region in regions:
            if region.contains(hit):
                names.append(region.name)
                inside.append(hit.resolved)
    return list(dict.fromkeys(names)), list(dict.fromkeys(inside))


def no_place_reason(regions: Sequence[Region], places: Sequence[PlaceHit]) -> str:
    wanted = " or ".join(r.name for r in regions)
    found = [describe_place(p) for p in deciding_places(places)][:4]
    return f"no place inside {wanted} (found: {'; '.join(found) or 'none'})"


def describe_place(hit: PlaceHit) -> str:
    """'Zahedan (Sistan and Baluchestan, IR)'."""
    if hit.admin1 is None or hit.admin1 == hit.resolved:
        return f"{hit.resolved} ({hit.country})" if hit.admin1 else hit.resolved
    return f"{hit.resolved} ({hit.admin1}, {hit.country})"
