"""Keeps the matcher's judged examples in step with the judgements table.

`refresh()` is cheap when nothing changed (one query of the table's fingerprint). When a
judgement was made or undone, by this process or another one (the CLI writes the shared
store), the active judgements are read again, the lead vectors of newly judged articles are
encoded, and read by the learned detectors when the matcher has them (kept afterwards), and
a new `FeedbackExamples` (each judged detector watch's head refitted, in a worker thread, when
its judgements changed) is swapped into the matcher whole, so a batch being matched sees
either the old set or the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

import numpy as np

from wirewatch import defaults
from wirewatch.feedback.examples import Example, FeedbackExamples, detector_margin
from wirewatch.models import Article
from wirewatch.rules.passages import split_passages
from wirewatch.store import Store

log = logging.getLogger(__name__)


class FeedbackLearner:
    def __init__(self, store: Store, **examples_options: Any) -> None:
        self.store = store
        self.examples = FeedbackExamples(**examples_options)
        self._options = examples_options
        self._version: tuple[int, int, int] | None = None
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._read: dict[str, np.ndarray] = {}  # article id -> the detectors' input
        self._lock = asyncio.Lock()

    def forget(self) -> None:
        """Drop the encoded vectors (another model: they must be encoded again)."""
        self._vectors.clear()
        self._read.clear()
        self._version = None

    async def refresh(self, matcher: Any, *, force: bool = False) -> bool:
        """Rebuild the examples when the judgements changed; True when they did."""
        async with self._lock:
            version = self.store.feedback.version()
            if version == self._version and not force:
                matcher.feedback = self.examples
                return False
            judgements = self.store.feedback.list()
            articles = {j.article_id: self.store.articles.get(j.article_id) for j in judgements}
            await self._encode_missing(matcher, [a for a in articles.values() if a is not None])
            by_watch: dict[str, list[Example]] = {}
            for judgement in judgements:
                example = self._example(matcher, judgement)
                if example is not None:
                    by_watch.setdefault(judgement.watch, []).append(example)
            events = {w.name: w.event for w in getattr(matcher, "prepared", [])}
            detectors, previous = getattr(matcher, "detectors", None), self.examples
            self.examples = await asyncio.to_thread(
                lambda: FeedbackExamples(  # refits the judged detector watches' heads
                    by_watch,
                    detectors=detectors,
                    events=events,
                    previous=previous,
                    **self._options,
                )
            )
            matcher.feedback = self.examples
            self._version = version
            log.info(
                "feedback: %d judged examples for %d watches",
                len(self.examples),
                len(self.examples.by_watch),
                extra={"event": "feedback.refreshed", "examples": len(self.examples)},
            )
            return True

    def _example(self, matcher: Any, judgement: Any) -> Example | None:
        """The judged article as an example of its watch; None when it is not stored."""
        vector = self._vectors.get(judgement.article_id)
        if vector is None:
            return None  # the article is not stored (any more): nothing to compare with
        read = self._read.get(judgement.article_id)
        detectors = getattr(matcher, "detectors", None)
        prepared = getattr(matcher, "prepared", [])
        watch = next((w for w in prepared if w.name == judgement.watch), None)
        events = kinds = None
        if read is not None:
            events = detectors.probabilities(read[None, :])[0]
            kinds = detectors.head.probabilities(read[None, :])[0]
        margin = detector_margin(watch, events, detectors)
        return Example(
            judgement.article_id, judgement.relevant, judgement.id, vector, read, kinds, margin
        )

    async def _encode_missing(self, matcher: Any, articles: list[Article]) -> None:
        missing = [a for a in articles if a.id not in self._vectors]
        if missing:
            if not getattr(matcher, "_ready", True):
                await asyncio.to_thread(matcher.prepare)
            leads = [split_passages(a.title, a.text)[0] for a in missing]
            encoded = await matcher.encoder.encode_with_tokens_async(leads)
            for article, vector in zip(missing, encoded.vectors, strict=True):
                self._vectors[article.id] = np.asarray(vector, dtype=np.float32)
        if getattr(matcher, "reads_events", False):  # what the detectors read, for the correction
            unread = [a for a in articles if a.id not in self._read]
            if unread:
                read = await matcher.detectors.article_features(unread)
                self._read.update(zip([a.id for a in unread], read, strict=True))
        for article in articles:
            self._vectors.move_to_end(article.id)
        while len(self._vectors) > defaults.FEEDBACK_CACHE_ARTICLES:
            self._read.pop(self._vectors.popitem(last=False)[0], None)

    async def watch(self, matcher_of: Any, stop: asyncio.Event) -> None:
        """Refresh every ``FEEDBACK_POLL_S`` until ``stop`` is set (the running service);
        ``matcher_of()`` is the matcher in use now (a reload swaps it)."""
        while not stop.is_set():
            try:
                await self.refresh(matcher_of())
            except Exception:
                log.exception("feedback: reading the judgements failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), defaults.FEEDBACK_POLL_S)
