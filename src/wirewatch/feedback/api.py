"""The one path of a judgement, whoever makes it: Slack's buttons, the CLI, the dashboard.

`record_judgement` checks and stores one judgement (no model needed: the CLI calls it and the
running service notices the new row within ``FEEDBACK_POLL_S``). `Feedback` is what the running
service offers (``service.feedback``): the same, and the matcher's examples refreshed at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

from wirewatch import defaults
from wirewatch.feedback.learner import FeedbackLearner
from wirewatch.monitor.urls import canonicalize_url
from wirewatch.store import Judgement, Store
from wirewatch.util import utcnow

NOTE_MAX_CHARS = 2000
WHO_MAX_CHARS = 200


class FeedbackError(ValueError):
    """A judgement that cannot be recorded, with a message for the person who made it."""


def record_judgement(
    store: Store,
    watches: Collection[str],
    *,
    article: str,
    watch: str,
    relevant: bool,
    who: str,
    note: str | None = None,
    source: str = "cli",
) -> Judgement:
    """Store one judgement of a stored article (its id or URL) for one watch."""
    if watch not in watches:
        known = ", ".join(sorted(watches)) or "none"
        raise FeedbackError(f"unknown watch {watch!r} (watches: {known})")
    reference = (article or "").strip()
    if not reference:
        raise FeedbackError("no article given: pass its id or URL")
    who = " ".join((who or "").split())[:WHO_MAX_CHARS] or "unknown"
    if note is not None:
        note = note.strip()[:NOTE_MAX_CHARS] or None
    article_id = store.feedback.find_article(reference, _canonical(reference))
    if article_id is None:
        raise FeedbackError(
            f"no stored article with id or URL {reference!r}: only articles the service has "
            "read (alerted or not) can be judged"
        )
    stored = store.articles.get(article_id)
    with store.transaction():
        return store.feedback.record(
            watch=watch,
            article_id=article_id,
            relevant=relevant,
            who=who,
            source=source,
            url=stored.url if stored else None,
            story_id=store.feedback.story_of(article_id, watch),
            note=note,
        )


def _canonical(reference: str) -> str | None:
    return canonicalize_url(reference) if "://" in reference else None


class Feedback:
    """``service.feedback``: judge and undo, and the running matcher adapts at once."""

    def __init__(
        self,
        store: Store,
        learner: FeedbackLearner,
        matcher_of: Callable[[], Any],
        watches_of: Callable[[], Collection[str]],
    ) -> None:
        self.store = store
        self.learner = learner
        self._matcher_of = matcher_of
        self._watches_of = watches_of

    async def judge(
        self,
        article: str,
        watch: str,
        relevant: bool,
        who: str,
        note: str | None = None,
        source: str = "cli",
    ) -> Judgement:
        judgement = record_judgement(
            self.store,
            self._watches_of(),
            article=article,
            watch=watch,
            relevant=relevant,
            who=who,
            note=note,
            source=source,
        )
        await self.learner.refresh(self._matcher_of())
        return judgement

    async def undo(self, judgement_id: int, who: str) -> bool:
        with self.store.transaction():
            undone = self.store.feedback.undo(judgement_id, who)
        if undone:
            await self.learner.refresh(self._matcher_of())
        return undone

    async def mute(self, story_id: str, who: str, duration_s: float | None = None) -> int:
        """Silence one story for a while (Slack's "Mute this story"); the silence's id."""
        if self.store.stories.get(story_id) is None:
            raise FeedbackError(f"no story {story_id!r} in the store")
        ends_at = utcnow() + timedelta(seconds=duration_s or defaults.FEEDBACK_MUTE_S)
        with self.store.transaction():
            return self.store.silences.add(
                story_id=story_id, ends_at=ends_at, reason=f"muted by {who}", created_by=who
            )

    async def watch(self, stop: asyncio.Event) -> None:
        """Notice judgements made by other processes (the CLI) until ``stop``."""
        await self.learner.watch(self._matcher_of, stop)
