"""The running service: crawler, pipeline and delivery wired together from one Config.

`Service` owns every long-lived resource (store, model, HTTP session, scheduler,
notifiers) and the order in which they start and stop. `wirewatch run` and
`wirewatch demo` are thin shells around it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from wirewatch.config.schema import Config
from wirewatch.delivery import DeliveryWorker
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller, PollResult
from wirewatch.monitor.scheduler import CrawlScheduler
from wirewatch.notifiers import Notifier, build_notifier
from wirewatch.pipeline import ArticleOutcome, Pipeline
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.gazetteer import Gazetteer
from wirewatch.rules.matcher import Matcher
from wirewatch.store import Store

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 10.0


@dataclass
class CycleReport:
    polls: list[PollResult] = field(default_factory=list)
    outcomes: list[ArticleOutcome] = field(default_factory=list)


def open_store(config: Config) -> Store:
    return Store(config.storage.sqlite_path)


def build_matcher(config: Config) -> Matcher:
    encoder = Encoder(config.model.name, config.model.device, batch_size=config.model.batch_size)
    return Matcher(config.watches, encoder, Gazetteer.load())


def build_notifiers(config: Config) -> dict[str, Notifier]:
    notifiers = {}
    for notifier_config in config.notifiers:
        if notifier_config.type == "email":
            log.warning("notifier %s: email digests are not delivered yet", notifier_config.name)
            continue
        notifiers[notifier_config.name] = build_notifier(notifier_config)
    return notifiers


class Service:
    def __init__(self, config: Config, *, notifiers: dict[str, Notifier] | None = None) -> None:
        self.config = config
        self._notifiers_override = notifiers
        self.stopping = asyncio.Event()
        self.report = CycleReport()
        self._tasks: list[asyncio.Task] = []
        self._processing = asyncio.Lock()

    async def start(self) -> None:
        """Open everything; load the model and gazetteer off the event loop."""
        self.store = open_store(self.config)
        self.matcher = await asyncio.to_thread(build_matcher, self.config)
        await asyncio.to_thread(self.matcher.prepare)
        self.pipeline = Pipeline(self.store, self.matcher, self.config.watches)
        self.notifiers = self._notifiers_override or build_notifiers(self.config)
        self.delivery = DeliveryWorker(self.store, self.notifiers)
        self.fetcher = Fetcher(self.config.crawler)
        await self.fetcher.__aenter__()
        self.poller = Poller(self.fetcher, self.store, self.config.crawler)
        self.scheduler = CrawlScheduler(self.poller, self.on_poll_result)

    async def on_poll_result(self, result: PollResult) -> None:
        self.report.polls.append(result)
        if result.status == "error":
            log.warning("outlet %s: %s", result.outlet, result.error)
        if not result.articles:
            return
        async with self._processing:  # one batch at a time: story assignment is sequential
            outcomes = await self.pipeline.process(result.articles)
        self.report.outcomes.extend(outcomes)
        self.delivery.wake()

    async def run_cycle(self, *, flush_timeout_s: float = 60.0) -> CycleReport:
        """Poll every outlet once, process what is new, deliver every alert due."""
        await self.scheduler.run_once(self._outlets())
        await self.delivery.flush(flush_timeout_s)
        return self.report

    async def run_forever(self) -> None:
        """Poll on schedule and deliver until `stopping` is set (SIGTERM/SIGINT)."""
        self.scheduler.start(self._outlets())
        self._tasks.append(asyncio.create_task(self.delivery.run(self.stopping)))
        await self.stopping.wait()

    def _outlets(self):
        return [outlet for outlet in self.config.outlets if outlet.enabled]

    async def stop(self) -> None:
        """Stop polling, let in-flight work finish, flush the outbox for a grace period."""
        self.stopping.set()
        if hasattr(self, "scheduler"):
            await self.scheduler.shutdown()
        for task in self._tasks:
            await task
        if hasattr(self, "delivery"):
            await self.delivery.flush(SHUTDOWN_GRACE_S)
        for notifier in getattr(self, "notifiers", {}).values():
            await notifier.close()
        if hasattr(self, "fetcher"):
            await self.fetcher.__aexit__(None, None, None)
        if hasattr(self, "matcher"):
            self.matcher.close()
        if hasattr(self, "store"):
            self.store.close()
