"""One story per real-world event: decide whether a matched article opens a story or joins one.

An article joins an open story of the same watch (one whose last article is within
the watch's story window from the article's time) when

- it is a copy of one of its sources (MinHash of word shingles: wire copy, light edits), or
- it is semantically close to the story, its centroid or its closest member (a long story's
  centroid drifts away from any one report: a report close to one member still belongs),
  and the places they name are compatible (they share one, or one of them names none), or
- it is a little less close but names, in its lead, a town that a member named in its lead
  (two reports of an attack "in Mach" on one day are one attack), or
- it is a little less close, comes within a day of the story's last report, its places are
  compatible and its lead names no town other than the story's (two reports the same day of
  "mobile data cut in Pakistan" and "PTA: internet suspended indefinitely" are one shutdown;
  attacks the same day in Turbat and in Zhob stay two stories); less close still when its
  lead also names a town of the story's leads (the same day, the same town: one attack).

Otherwise it opens a new story. The best candidate wins: a copy first, then the closest.

"Close" is the cosine of the articles' grouping vectors (``ArticleEncoding.grouping``): the
multilingual vector of the detectors' pass (rules/leads.py ``story_vector``), so that an Urdu
and an English report of one event are close; the English model's lead vector only where no
watch is bound to a detector. Each has its cosines (``defaults.STORY_SIMILARITY*`` for the
multilingual vector, ``STORY_SIMILARITY_ENGLISH`` for the English one). A story's vectors
made by another model than the article's (those stored before the model was recorded among
them) are never compared: such a story is joined by a copy only.

Several instances on one database: `serialize(watches)`, inside the transaction that
assigns, holds each watch's lock until it commits (PostgreSQL advisory locks, taken in name
order so that two instances never wait on each other), so each decision sees every story
the other instances opened before: one event is one story whichever instance saw which
report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

import numpy as np
from datasketch import MinHash

from wirewatch import defaults
from wirewatch.models import Article, ArticleEncoding, Source, WatchMatch
from wirewatch.rules.leads import STORY_VECTOR_MODEL
from wirewatch.store import OpenStory, Store
from wirewatch.stories.fingerprint import copy_similarity, fingerprint

JoinReason = Literal["new", "same_text", "similar", "same_place", "same_day"]


class StoryWatch(Protocol):
    name: str
    story_window: float


@dataclass(frozen=True)
class StoryDecision:
    story_id: str
    new_story: bool
    joined_by: JoinReason
    similarity: float  # to the story joined (1.0 for a new one)


def place_names(encoding: ArticleEncoding) -> list[str]:
    return list(dict.fromkeys(hit.resolved for hit in encoding.places))


def lead_towns(encoding: ArticleEncoding) -> list[str]:
    """Towns and districts named in the title or lead: where it happened."""
    return list(dict.fromkeys(hit.resolved for hit in encoding.places if hit.in_lead and hit.local))


def story_similarity(story: OpenStory, vector: np.ndarray, model: str) -> float:
    """Cosine to the story: the better of its centroid and its closest member; -1 when the
    story's vectors were made by another model than ``model``."""
    if story.model != model or story.centroid.shape != vector.shape:
        return -1.0
    members = [float(np.dot(v, vector)) for v in story.vectors if v.shape == vector.shape]
    return max([float(np.dot(story.centroid, vector)), *members])


def article_sketch(article: Article) -> MinHash:
    """What `assign` compares with the stories' sources to find copies."""
    return fingerprint(article.text or article.title)


def story_lock(watch: str) -> str:
    return f"wirewatch:stories:{watch}"


@dataclass(frozen=True)
class Thresholds:
    """The cosines each joining rule needs, for one model's vectors."""

    similarity: float
    same_place: float
    same_day: float
    same_day_place: float


ENGLISH = Thresholds(*defaults.STORY_SIMILARITY_ENGLISH)


class StoryAssigner:
    def serialize(self, watches: Iterable[str]) -> None:
        """Hold the story lock of every watch in `watches` until the transaction ends."""
        for watch in sorted(set(watches)):
            self.store.db.lock(story_lock(watch))

    def __init__(
        self,
        store: Store,
        *,
        similarity: float = defaults.STORY_SIMILARITY,
        same_place: float = defaults.STORY_SIMILARITY_SAME_PLACE,
        same_day: float = defaults.STORY_SIMILARITY_SAME_DAY,
        same_day_place: float = defaults.STORY_SIMILARITY_SAME_DAY_PLACE,
        same_text: float = defaults.SYNDICATED_JACCARD,
        english: Thresholds = ENGLISH,
    ) -> None:
        """The four cosines are the multilingual story vector's; ``english``: the English
        model's lead vector's (where no watch is bound to a detector)."""
        self.store = store
        self.multilingual = Thresholds(similarity, same_place, same_day, same_day_place)
        self.english = english
        self.same_text = same_text

    def thresholds(self, model: str) -> Thresholds:
        return self.multilingual if model == STORY_VECTOR_MODEL else self.english

    def assign(
        self,
        watch: StoryWatch,
        article: Article,
        encoding: ArticleEncoding,
        match: WatchMatch,
        sketch: MinHash | None = None,
    ) -> StoryDecision:
        """Join the best open story or open a new one; writes the story and its source.

        `sketch` is `article_sketch(article)` when the caller computed it already (before
        its transaction, so that the transaction holds its locks for less time)."""
        sketch = sketch if sketch is not None else article_sketch(article)
        places = place_names(encoding)
        towns = lead_towns(encoding)
        vector, model = encoding.grouping
        since = article.published - timedelta(seconds=watch.story_window)
        best = self._best_story(
            self.store.stories.open(watch.name, since),
            (vector, model),
            places,
            towns,
            sketch,
            article.published,
        )
        source = Source(
            article_id=article.id,
            outlet=article.outlet,
            url=article.url,
            title=article.title,
            published=article.published,
            score=match.score,
            evidence=match.evidence,
        )
        if best is None:
            story_id = self.store.stories.create(
                watch=watch.name,
                title=article.title,
                seen=article.published,
                regions=match.regions,
                places=places,
                score=match.score,
                centroid=vector,
                model=model,
            )
            decision = StoryDecision(story_id, True, "new", 1.0)
        else:
            story, reason, score = best
            decision = StoryDecision(story.id, False, reason, score)
        self.store.stories.add_source(
            decision.story_id,
            source,
            joined_by=decision.joined_by,
            vector=vector,
            model=model,
            places=places,
            regions=match.regions,
            fingerprint=sketch.hashvalues.astype(np.uint32).tobytes(),
            lead_places=towns,
        )
        return decision

    def _best_story(
        self,
        stories: list[OpenStory],
        grouping: tuple[np.ndarray, str],
        places: list[str],
        towns: list[str],
        sketch: MinHash,
        published: datetime,
    ) -> tuple[OpenStory, JoinReason, float] | None:
        best: tuple[OpenStory, JoinReason, float] | None = None
        for story in stories:
            copy = copy_similarity(sketch, story.fingerprints)
            if copy >= self.same_text:
                return story, "same_text", copy
            similarity = story_similarity(story, *grouping)
            needed = self.thresholds(grouping[1])
            reason = self._join_reason(story, similarity, needed, places, towns, published)
            if reason is None:
                continue
            if best is None or similarity > best[2]:
                best = (story, reason, similarity)
        return best

    def _join_reason(
        self,
        story: OpenStory,
        similarity: float,
        thresholds: Thresholds,
        places: list[str],
        towns: list[str],
        published: datetime,
    ) -> JoinReason | None:
        """Why an article this close to `story` belongs to it (None: it does not)."""
        compatible = _places_compatible(places, story.places)
        if similarity >= thresholds.similarity and compatible:
            return "similar"
        same_town = bool(set(towns) & story.lead_places)
        if similarity >= thresholds.same_place and same_town:
            return "same_place"
        close_in_time = abs(published - story.last_seen) <= timedelta(
            seconds=defaults.STORY_SAME_DAY_S
        )
        other_town = bool(towns) and bool(story.lead_places) and not same_town
        needed = thresholds.same_day_place if same_town else thresholds.same_day
        if close_in_time and similarity >= needed and compatible and not other_town:
            return "same_day"
        return None


def _places_compatible(article_places: list[str], story_places: list[str]) -> bool:
    """Reports of one event name at least one common place, unless one of them names none."""
    if not article_places or not story_places:
        return True
    return bool(set(article_places) & set(story_places))
