"""Persistence: one database, one repository per concern, all sharing one transaction.

    store.crawl      fetch state and seen feed entries       (store/crawl.py)
    store.articles   articles and every watch's decision     (store/articles.py)
    store.stories    stories and their sources               (store/stories.py)
    store.outbox     queued alerts, receivers' story ids     (store/outbox.py)
    store.silences   silences as stored                      (store/silences.py)
    store.decisions  the decisions log                       (store/decisions.py)
    store.feedback   the team's judgements of articles       (store/feedback.py)

`with store.transaction():` makes the writes of several repositories one commit.
"""

from __future__ import annotations

from pathlib import Path

from wirewatch.store.articles import ArticleRepository
from wirewatch.store.crawl import CrawlRepository
from wirewatch.store.db import Database
from wirewatch.store.decisions import DecisionRepository
from wirewatch.store.feedback import FeedbackRepository, Judgement
from wirewatch.store.outbox import OutboxRepository, OutboxRow
from wirewatch.store.silences import Silence, SilenceRepository
from wirewatch.store.stories import OpenStory, StoryRepository

__all__ = ["Judgement", "OpenStory", "OutboxRow", "Silence", "Store"]


class Store(Database):
    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.crawl = CrawlRepository(self)
        self.articles = ArticleRepository(self)
        self.stories = StoryRepository(self)
        self.outbox = OutboxRepository(self)
        self.silences = SilenceRepository(self)
        self.decisions = DecisionRepository(self)
        self.feedback = FeedbackRepository(self)
