"""The running service: crawler, pipeline and delivery wired together from one Config.

`Service` owns every long-lived resource (store, model, HTTP session, scheduler,
notifiers) and the order in which they start and stop. `wirewatch run` and
`wirewatch demo` are thin shells around it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from wirewatch.config.schema import Config
from wirewatch.delivery import DeliveryWorker
from wirewatch.digest import DigestScheduler, DigestSender
from wirewatch.metrics import Metrics
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller, PollResult
from wirewatch.monitor.scheduler import CrawlScheduler
from wirewatch.notifiers import Notifier, build_notifier
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.pipeline import ArticleOutcome, Pipeline
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.gazetteer import Gazetteer
from wirewatch.rules.matcher import Matcher
from wirewatch.server import start_server
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
    """One notifier per alert receiver; email digests are sent by `build_digests` instead."""
    return {n.name: build_notifier(n) for n in config.notifiers if n.type != "email"}


def build_digests(config: Config) -> dict[str, EmailDigestNotifier]:
    return {n.name: EmailDigestNotifier(n) for n in config.notifiers if n.type == "email"}


class Service:
    def __init__(self, config: Config, *, notifiers: dict[str, Notifier] | None = None) -> None:
        self.config = config
        self._notifiers_override = notifiers
        self.stopping = asyncio.Event()
        self.report = CycleReport()
        self._tasks: list[asyncio.Task] = []
        self._processing = asyncio.Lock()
        self.metrics = Metrics()
        self.last_successful_poll: float | None = None  # time.monotonic()
        self.scheduler_running = False
        self._server = None

    async def start(self) -> None:
        """Open everything; load the model and gazetteer off the event loop."""
        self.store = open_store(self.config)
        self.matcher = await asyncio.to_thread(build_matcher, self.config)
        await asyncio.to_thread(self.matcher.prepare)
        self.pipeline = Pipeline(self.store, self.matcher, self.config.watches)
        self.notifiers = self._notifiers_override or build_notifiers(self.config)
        self.delivery = DeliveryWorker(self.store, self.notifiers, on_attempt=self._count_delivery)
        self.digests = DigestSender(self.store, build_digests(self.config))
        self.digest_scheduler = DigestScheduler(
            self.digests, [n for n in self.config.notifiers if n.type == "email"]
        )
        self.fetcher = Fetcher(self.config.crawler)
        await self.fetcher.__aenter__()
        self.poller = Poller(self.fetcher, self.store, self.config.crawler)
        self.scheduler = CrawlScheduler(self.poller, self.on_poll_result)
        if self.config.server:
            listen = self.config.server
            self._server = await start_server(self, listen.host, listen.port)
            log.info("health and metrics on http://%s:%d/", listen.host, listen.port)

    async def on_poll_result(self, result: PollResult) -> None:
        self.report.polls.append(result)
        self.metrics.polls.labels(result.outlet, result.status).inc()
        if result.status == "error":
            log.warning("outlet %s: %s", result.outlet, result.error)
        else:
            self.last_successful_poll = time.monotonic()
        if not result.articles:
            return
        async with self._processing:  # one batch at a time: story assignment is sequential
            with self.metrics.match_seconds.time():
                outcomes = await self.pipeline.process(result.articles)
        self.report.outcomes.extend(outcomes)
        self._count_outcomes(outcomes)
        self.delivery.wake()

    def _count_outcomes(self, outcomes: list[ArticleOutcome]) -> None:
        watches = {w.name: w for w in self.config.watches}
        for outcome in outcomes:
            self.metrics.articles.labels(outcome.article.outlet).inc()
            for watch, decision in outcome.stories.items():
                self.metrics.matches.labels(watch).inc()
                if decision.new_story:
                    self.metrics.stories.labels(watch).inc()
                kind = "new_story" if decision.new_story else "story_update"
                for notifier in watches[watch].notify:
                    self.metrics.alerts.labels(notifier, kind).inc()

    def _count_delivery(self, notifier: str, result: str) -> None:
        self.metrics.deliveries.labels(notifier, result).inc()

    async def run_cycle(self, *, flush_timeout_s: float = 60.0) -> CycleReport:
        """Poll every outlet once, process what is new, deliver every alert due."""
        await self.scheduler.run_once(self._outlets())
        await self.delivery.flush(flush_timeout_s)
        return self.report

    async def run_forever(self) -> None:
        """Poll on schedule and deliver until `stopping` is set (SIGTERM/SIGINT)."""
        self.scheduler.start(self._outlets())
        self.digest_scheduler.start()
        self.scheduler_running = True
        self._tasks.append(asyncio.create_task(self.delivery.run(self.stopping)))
        await self.stopping.wait()

    def _outlets(self):
        return [outlet for outlet in self.config.outlets if outlet.enabled]

    async def reload(self, new: Config) -> None:
        """Apply a new, already validated config without dropping queued work (SIGHUP).

        Watches or model changed: a new matcher is built off the event loop and swapped in
        between batches. Notifiers changed: rebuilt; alerts queued for a removed notifier
        stay in the outbox until it comes back. Outlets: jobs added, removed or rescheduled.
        Storage, crawler and server settings need a restart; a change is logged.
        """
        old = self.config
        for section in ("storage", "crawler", "server"):
            if getattr(old, section) != getattr(new, section):
                log.warning("reload: %s settings change only on restart", section)
        async with self._processing:
            if old.watches != new.watches or old.model != new.model:
                matcher = await asyncio.to_thread(build_matcher, new)
                await asyncio.to_thread(matcher.prepare)
                self.matcher.close()
                self.matcher = matcher
                self.pipeline = Pipeline(self.store, matcher, new.watches)
            if old.notifiers != new.notifiers and self._notifiers_override is None:
                for notifier in self.notifiers.values():
                    await notifier.close()
                self.notifiers = build_notifiers(new)
                self.delivery.notifiers = dict(self.notifiers)
                self.digests.digests = build_digests(new)
                if self.scheduler_running:
                    self.digest_scheduler.shutdown()
                    self.digest_scheduler = DigestScheduler(
                        self.digests, [n for n in new.notifiers if n.type == "email"]
                    )
                    self.digest_scheduler.start()
            self.config = new.model_copy(
                update={"storage": old.storage, "crawler": old.crawler, "server": old.server}
            )
        if self.scheduler_running:
            self.scheduler.set_outlets(self._outlets())
        self.delivery.wake()

    async def stop(self) -> None:
        """Stop polling, let in-flight work finish, flush the outbox for a grace period."""
        self.stopping.set()
        if hasattr(self, "scheduler"):
            await self.scheduler.shutdown()
            self.digest_scheduler.shutdown()
            self.scheduler_running = False
        for task in self._tasks:
            await task
        if hasattr(self, "delivery"):
            await self.delivery.flush(SHUTDOWN_GRACE_S)
        for notifier in getattr(self, "notifiers", {}).values():
            await notifier.close()
        if self._server is not None:
            await self._server.cleanup()
        if hasattr(self, "fetcher"):
            await self.fetcher.__aexit__(None, None, None)
        if hasattr(self, "matcher"):
            self.matcher.close()
        if hasattr(self, "store"):
            self.store.close()
