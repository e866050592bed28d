"""One batch of new articles through the pipeline: store -> match -> stories -> outbox.

`run`, `demo` and `backtest` all go through `Pipeline.process`, so a backtest
decides exactly as the service does. Everything one batch writes is committed in
one transaction, together with marking its feed entries seen: a crash part-way
leaves the entries unseen and the next poll processes them again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from wirewatch.models import Article, ArticleEncoding, WatchMatch
from wirewatch.store import Store, utcnow
from wirewatch.stories import StoryAssigner, StoryDecision

log = logging.getLogger(__name__)
_SPACE = re.compile(r"\s+")


class PipelineWatch(Protocol):
    name: str
    notify: list[str]
    story_window: float
    group_wait: float
    update_interval: float


class ArticleMatcher(Protocol):
    async def match_articles(
        self, articles: Sequence[Article]
    ) -> list[tuple[ArticleEncoding, list[WatchMatch]]]: ...


@dataclass
class ArticleOutcome:
    """What happened to one article: every watch's decision and the stories it joined."""

    article: Article
    matches: list[WatchMatch] = field(default_factory=list)
    stories: dict[str, StoryDecision] = field(default_factory=dict)  # watch -> decision
    duplicate_of: str | None = None


def content_hash(article: Article) -> str:
    """Hash of the normalised text: the same syndicated copy hashes the same."""
    body = article.text if len(article.text) >= 200 else f"{article.title}\n{article.text}"
    return hashlib.sha256(_SPACE.sub(" ", body.lower()).strip().encode()).hexdigest()


def delivery_id(story_id: str, notifier: str, *parts: str) -> str:
    digest = hashlib.sha256("\0".join([story_id, notifier, *parts]).encode()).hexdigest()
    return f"d-{digest[:20]}"


class Pipeline:
    def __init__(
        self,
        store: Store,
        matcher: ArticleMatcher,
        watches: Sequence[PipelineWatch],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.matcher = matcher
        self.watches = {w.name: w for w in watches}
        self.stories = StoryAssigner(store)
        self.clock = clock  # when alerts are due: grouping wait and update interval

    async def process(self, articles: Sequence[Article]) -> list[ArticleOutcome]:
        fresh = sorted(
            (a for a in articles if not self.store.has_article(a.id)), key=lambda a: a.published
        )
        decided = await self.matcher.match_articles(fresh) if fresh else []
        outcomes = []
        with self.store.transaction():
            for article, (encoding, matches) in zip(fresh, decided, strict=True):
                outcomes.append(self._record(article, encoding, matches))
            for article in articles:
                if article.entry_key:
                    self.store.mark_seen(article.outlet, [article.entry_key])
        return outcomes

    def _record(
        self, article: Article, encoding: ArticleEncoding, matches: list[WatchMatch]
    ) -> ArticleOutcome:
        digest = content_hash(article)
        outcome = ArticleOutcome(article, matches)
        outcome.duplicate_of = self._duplicate_of(article, digest)
        self.store.add_article(article, digest)
        if outcome.duplicate_of:
            self._record_duplicate(outcome)
            return outcome
        for match in matches:
            watch = self.watches.get(match.watch)
            story_id = None
            if match.matched and watch is not None:
                decision = self.stories.assign(watch, article, encoding, match)
                outcome.stories[match.watch] = decision
                story_id = decision.story_id
                self._enqueue_alerts(watch, article, decision)
            self.store.add_match(article.id, match, story_id)
        return outcome

    def _duplicate_of(self, article: Article, digest: str) -> str | None:
        """The stored article this one repeats: the same page, or the same text again from
        the same outlet. The same text from another outlet is a syndicated copy, not a
        duplicate: it is matched and joins the original's story as one more source."""
        if article.url and (same_page := self.store.find_duplicate(article, "")):
            return same_page
        same_text = self.store.find_duplicate(article, digest)
        if same_text is None:
            return None
        original = self.store.get_article(same_text)
        return None if original is not None and original.outlet != article.outlet else same_text

    def _record_duplicate(self, outcome: ArticleOutcome) -> None:
        """An article already stored under the same URL or text: never a second match."""
        self.store.record_decision(
            decision="skip",
            reason=f"duplicate of {outcome.duplicate_of} (same URL, or same text from the same"
            " outlet)",
            article_id=outcome.article.id,
        )

    def _enqueue_alerts(self, watch: PipelineWatch, article: Article, decision: StoryDecision):
        """Queue an alert per notifier, or say why not (no notifiers, silenced, grouped)."""
        kind = "new_story" if decision.new_story else "story_update"
        reason = "new story" if decision.new_story else f"new source ({decision.joined_by})"
        trail = {"watch": watch.name, "story_id": decision.story_id, "article_id": article.id}
        if not watch.notify:
            self.store.record_decision(
                decision="skip", reason=f"{reason}; watch has no notifiers", **trail
            )
            return
        silence = self.store.active_silence(watch.name, decision.story_id, self.clock())
        if silence is not None:
            self.store.record_decision(
                decision="silenced",
                reason=f"{reason}; silence #{silence.id} until {silence.ends_at:%Y-%m-%d %H:%M}Z"
                f": {silence.reason}",
                **trail,
            )
            return
        for notifier in watch.notify:
            self._enqueue_one(watch, notifier, kind, reason, article, decision, trail)

    def _enqueue_one(
        self,
        watch: PipelineWatch,
        notifier: str,
        kind: str,
        reason: str,
        article: Article,
        decision: StoryDecision,
        trail: dict[str, str],
    ) -> None:
        now = self.clock()
        waiting = self.store.waiting_alert(decision.story_id, notifier, now)
        if waiting is not None:  # still in its grouping wait or update interval: join it
            self.store.add_to_alert(waiting.delivery_id, [article.id])
            self.store.record_decision(
                decision="grouped",
                reason=f"{reason}; joins queued {waiting.kind} {waiting.delivery_id}",
                notifier=notifier,
                **trail,
            )
            return
        if decision.new_story:
            not_before = now + timedelta(seconds=watch.group_wait)
        else:
            last = self.store.last_alert_at(decision.story_id, notifier) or now
            not_before = max(now, last + timedelta(seconds=watch.update_interval))
        self.store.enqueue(
            delivery_id=delivery_id(decision.story_id, notifier, kind, article.id),
            notifier=notifier,
            story_id=decision.story_id,
            kind=kind,
            article_ids=[article.id],
            not_before=not_before,
            now=now,
        )
        self.store.record_decision(decision="send", reason=reason, notifier=notifier, **trail)
