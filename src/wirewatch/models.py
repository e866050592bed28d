"""The records that flow through the pipeline: outlet -> article -> match -> story -> alert.

Each stage takes one of these and hands the next one on; none of them knows
about the store or the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, as the feed describes it."""

    key: str  # identity within the outlet: guid, else canonical URL, else content hash
    url: str | None  # canonical URL of the article page
    title: str
    summary: str  # plain text
    published: datetime | None  # timezone-aware UTC, None when the feed gives no date


@dataclass
class Article:
    """An article ready for matching: text extracted, identity fixed."""

    id: str
    outlet: str
    title: str
    text: str
    published: datetime  # timezone-aware UTC
    url: str | None = None
    language: str | None = None
    text_source: Literal["page", "feed", "corpus"] = "page"
    entry_key: str = ""  # the feed entry's key; marked seen when the article is stored

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.split("\n") if p.strip()]


@dataclass(frozen=True)
class PlaceHit:
    """A place named in an article and where the gazetteer puts it."""

    name: str  # as written in the article
    resolved: str  # canonical name, e.g. "Quetta"
    country: str  # ISO 3166-1 alpha-2
    admin1: str | None  # first-level division, e.g. "Balochistan"
    in_lead: bool  # named in the title, dateline or lead (where the event happened)
    local: bool = False  # a town or district (also a city named like its province: "Kabul")


@dataclass
class ArticleEncoding:
    """What the encoder computed once per article, shared by every watch."""

    passages: list[str]  # passage 0 is the lead (title + first paragraph), then the sentences
    vectors: np.ndarray  # (len(passages), dim), L2-normalised
    places: list[PlaceHit]
    leads: int = 1  # passages that make up the lead: 2 when passage 1 is the headline alone
    tokens: list[np.ndarray] = field(default_factory=list)  # per passage: its token vectors
    headline_clauses: tuple[frozenset[str], ...] = ()  # content-word stems of each title clause
    opening_stems: frozenset[str] = frozenset()  # ... and of the text's first sentence
    opinion: bool = False  # an editorial, op-ed, column or letter (rules/genre.py)
    events: dict[str, float] | None = None  # P(event type) by the learned detectors
    event_features: np.ndarray | None = None  # what the detectors read (rules/leads.py)
    event_kinds: np.ndarray | None = None  # the detectors' head: P(each of its classes)
    event_reading: str = ""  # what of the article the detectors read (rules/events.py)
    # the English model read the first len(vectors) passages; why (rules/reading.py)
    english_reading: str = ""
    # what stories group it by, and the model that made it (rules/leads.py ``story_vector``);
    # None: the English model's lead vector (``lead_vector``), made by ``english_model``
    story_vector: np.ndarray | None = None
    story_model: str = ""
    english_model: str = "english"

    @property
    def lead_vector(self) -> np.ndarray:
        return self.vectors[0]

    @property
    def grouping(self) -> tuple[np.ndarray, str]:
        """The vector stories compare this article by, and the model that made it."""
        if self.story_vector is not None:
            return self.story_vector, self.story_model
        if not len(self.vectors):
            raise ValueError("no vector to group this article by: no model read it")
        return self.lead_vector, self.english_model


@dataclass
class WatchMatch:
    """The decision of one watch on one article, with what explains it."""

    watch: str
    matched: bool
    score: float
    threshold: float
    evidence: str  # the best matching passage
    regions: list[str] = field(default_factory=list)  # watched regions the article fell in
    places: list[str] = field(default_factory=list)  # places found inside those regions
    excluded_by: str | None = None  # the exclude phrase that suppressed it, or "opinion piece"
    reason: str = ""  # one line: why it fired or why not
    top_passages: list[tuple[int, float]] = field(default_factory=list)  # (passage, similarity)


@dataclass
class Source:
    article_id: str
    outlet: str
    url: str | None
    title: str
    published: datetime
    score: float
    evidence: str


@dataclass
class Story:
    """One real-world event as reported by one or more outlets, for one watch."""

    id: str
    watch: str
    title: str
    first_seen: datetime
    last_seen: datetime
    regions: list[str]
    places: list[str]
    best_score: float
    sources: list[Source] = field(default_factory=list)


AlertKind = Literal["new_story", "story_update"]


@dataclass
class Alert:
    """What a notifier delivers: a new story, or new sources for a known one."""

    delivery_id: str  # stable across retries
    kind: AlertKind
    notifier: str
    watch: str
    story: Story
    articles: list[Source]  # new story: all its sources so far; update: the new ones only
    created_at: datetime


@dataclass(frozen=True)
class DeliveryResult:
    """What every notifier returns: done, or why not and whether to try again."""

    ok: bool
    retryable: bool = False
    error: str | None = None
    retry_after: float | None = None  # seconds, when the receiver said so
    remote_ref: str | None = None  # e.g. the Slack message ts, so updates can thread under it

    @classmethod
    def success(cls, remote_ref: str | None = None) -> DeliveryResult:
        return cls(ok=True, remote_ref=remote_ref)

    @classmethod
    def failure(
        cls, error: str, *, retryable: bool, retry_after: float | None = None
    ) -> DeliveryResult:
        return cls(ok=False, retryable=retryable, error=error, retry_after=retry_after)
