"""One batch of new articles through the pipeline: store -> match -> stories -> alerts.

`run`, `demo` and `backtest` all go through `Pipeline.process`, so a backtest
decides exactly as the service does. Everything one batch writes is committed in
one transaction, together with marking its feed entries seen: a crash part-way
leaves the entries unseen and the next poll processes them again.

Articles that arrive while a batch is being matched go together into the next batch
(`Batcher`): many outlets answer within the same second, and matching their articles
one poll at a time would call the model once per poll with a handful of passages. The
batcher lets the first poll's articles through at once and gathers everything that
arrives meanwhile into one call, so the model sees full batches when the service is
busy and no wait when it is idle.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from datasketch import MinHash

from wirewatch.alerts.policy import AlertPolicy
from wirewatch.models import Article, ArticleEncoding, WatchMatch
from wirewatch.store import Store
from wirewatch.store.worker import InlineWorker, Worker
from wirewatch.stories.assigner import StoryAssigner, StoryDecision, article_sketch
from wirewatch.util import utcnow

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


class Pipeline:
    """`process(articles)`: match on the event loop's side, then record on `worker`.

    The store work of a batch (which articles are new; then, in one transaction, the
    articles, every watch's decision, story assignment, the outbox rows and the feed entries
    marked seen) runs as jobs on `worker`: in the service a `StoreWorker`, one thread with its
    own connection, so the event loop runs no SQL for a batch; by default an `InlineWorker` on
    `store` itself. The decisions are the same either way: the same code runs on a store.
    """

    def __init__(
        self,
        store: Store,
        matcher: ArticleMatcher,
        watches: Sequence[PipelineWatch],
        *,
        clock: Callable[[], datetime] = utcnow,
        worker: Worker | None = None,
        on_step: Callable[[str, float], None] | None = None,
    ) -> None:
        """`on_step(step, seconds)`: told the wall time of each step of a batch ("check":
        which articles are stored already, "match", "record": the transaction, waits for
        other instances' locks included)."""
        self.store = store
        self.matcher = matcher
        self.watches = {w.name: w for w in watches}
        self.clock = clock
        self.worker: Worker = worker or InlineWorker(store)
        self.on_step = on_step

    async def process(self, articles: Sequence[Article]) -> list[ArticleOutcome]:
        started = time.monotonic()
        stored = await self.worker.run(_stored_ids, [a.id for a in articles])
        started = self._step("check", started)
        fresh = sorted((a for a in articles if a.id not in stored), key=lambda a: a.published)
        decided = await self.matcher.match_articles(fresh) if fresh else []
        started = self._step("match", started)
        outcomes = await self.worker.run(self._record_batch, list(articles), fresh, decided)
        self._step("record", started)
        return outcomes

    def _step(self, step: str, started: float) -> float:
        now = time.monotonic()
        if self.on_step is not None:
            self.on_step(step, now - started)
        return now

    def _record_batch(
        self,
        store: Store,
        articles: list[Article],
        fresh: list[Article],
        decided: list[tuple[ArticleEncoding, list[WatchMatch]]],
    ) -> list[ArticleOutcome]:
        """One transaction: the batch's articles, decisions, stories, alerts, seen entries."""
        recorder = Recorder(store, self.watches, self.clock)
        # computed before the transaction: its locks are held for the SQL, not for hashing
        recorder.sketches = {
            a.id: article_sketch(a)
            for a, (_, matches) in zip(fresh, decided, strict=True)
            if any(m.matched for m in matches)
        }
        outcomes = []
        with store.transaction():
            if store.shared:  # several instances: one story assignment at a time
                recorder.stories.serialize(m.watch for _, ms in decided for m in ms if m.matched)
            for article, (encoding, matches) in zip(fresh, decided, strict=True):
                if store.shared and store.articles.has(article.id):
                    continue  # another instance stored it while this one matched it
                outcomes.append(recorder.record(article, encoding, matches))
            for article in articles:
                if article.entry_key:
                    store.crawl.mark_seen(article.outlet, [article.entry_key])
        return outcomes


def _stored_ids(store: Store, ids: list[str]) -> set[str]:
    return {article_id for article_id in ids if store.articles.has(article_id)}


class Recorder:
    """What one article's arrival writes, on one store: the article, each watch's decision,
    the story it joins or opens, the alerts queued."""

    def __init__(
        self, store: Store, watches: dict[str, PipelineWatch], clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.watches = watches
        self.stories = StoryAssigner(store)
        self.alerts = AlertPolicy(store, clock)
        self.sketches: dict[str, MinHash] = {}  # article id -> its sketch, where computed

    def record(
        self, article: Article, encoding: ArticleEncoding, matches: list[WatchMatch]
    ) -> ArticleOutcome:
        digest = content_hash(article)
        outcome = ArticleOutcome(article, matches)
        outcome.duplicate_of = self._duplicate_of(article, digest)
        self.store.articles.add(article, digest)
        if outcome.duplicate_of:
            self._record_duplicate(outcome)
            return outcome
        for match in matches:
            watch = self.watches.get(match.watch)
            story_id = None
            if match.matched and watch is not None:
                sketch = self.sketches.get(article.id)
                decision = self.stories.assign(watch, article, encoding, match, sketch)
                outcome.stories[match.watch] = decision
                story_id = decision.story_id
                self.alerts.queue(watch, article, decision)
            self.store.articles.add_match(article.id, match, story_id)
        return outcome

    def _duplicate_of(self, article: Article, digest: str) -> str | None:
        """The stored article this one repeats: the same page, or the same text again from
        the same outlet. The same text from another outlet is a syndicated copy, not a
        duplicate: it is matched and joins the original's story as one more source."""
        if article.url and (same_page := self.store.articles.find_duplicate(article, "")):
            return same_page
        same_text = self.store.articles.find_duplicate(article, digest)
        if same_text is None:
            return None
        original = self.store.articles.get(same_text)
        return None if original is not None and original.outlet != article.outlet else same_text

    def _record_duplicate(self, outcome: ArticleOutcome) -> None:
        """An article already stored under the same URL or text: never a second match."""
        self.store.decisions.record(
            decision="skip",
            reason=f"duplicate of {outcome.duplicate_of} (same URL, or same text from the same"
            " outlet)",
            article_id=outcome.article.id,
        )


# ---- batching: what arrives while a batch is matched goes into the next one ----------
class HasArticleId(Protocol):
    @property
    def id(self) -> str: ...


class HasArticle(Protocol):
    @property
    def article(self) -> HasArticleId: ...


ArticleT = TypeVar("ArticleT", bound=HasArticleId)
OutcomeT = TypeVar("OutcomeT", bound=HasArticle)


class Batcher(Generic[ArticleT, OutcomeT]):
    """``await submit(articles)`` returns the outcomes of exactly those articles."""

    def __init__(self, process: Callable[[list[ArticleT]], Awaitable[list[OutcomeT]]]) -> None:
        self._process = process
        self._waiting: list[tuple[Sequence[ArticleT], asyncio.Future[list[OutcomeT]]]] = []
        self._running = asyncio.Lock()
        self.batches = 0  # how many calls of ``process`` so far (for metrics and tests)

    async def submit(self, articles: Sequence[ArticleT]) -> list[OutcomeT]:
        done: asyncio.Future[list[OutcomeT]] = asyncio.get_running_loop().create_future()
        self._waiting.append((articles, done))
        async with self._running:
            if not done.done():  # nobody took us along in their batch: run one ourselves
                await self._run(done)
        return await done

    async def _run(self, mine: asyncio.Future[list[OutcomeT]]) -> None:
        waiting, self._waiting = self._waiting, []
        unique = {a.id: a for articles, _ in waiting for a in articles}
        self.batches += 1
        try:
            outcomes = await self._process(list(unique.values()))
        except asyncio.CancelledError:
            # Our caller is being cancelled; the others' articles go into the next batch.
            self._waiting[:0] = [(a, done) for a, done in waiting if done is not mine]
            mine.cancel()
            raise
        except Exception as exc:
            for _, done in waiting:
                done.set_exception(exc)
            return
        by_id = {o.article.id: o for o in outcomes}
        for articles, done in waiting:
            done.set_result([by_id[a.id] for a in articles if a.id in by_id])
