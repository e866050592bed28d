"""The running service: crawler, pipeline and delivery wired together from one Config.

`Service` owns every long-lived resource (store, model, HTTP session, scheduler,
notifiers) and the order in which they start and stop. `wirewatch run` and
`wirewatch demo` are thin shells around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Iterable, MutableSequence
from dataclasses import dataclass, field

from wirewatch import defaults
from wirewatch.config.schema import Config, WatchConfig, redact_password
from wirewatch.delivery.digest import DigestScheduler, DigestSender
from wirewatch.delivery.worker import DeliveryWorker
from wirewatch.feedback import Feedback, FeedbackLearner
from wirewatch.feedback.slack import SocketModeListener, Verifiers, start_slack_feedback
from wirewatch.models import Article
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.poller import Poller, PollResult
from wirewatch.monitor.scheduler import CrawlScheduler
from wirewatch.notifiers import Notifier
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.pipeline import ArticleOutcome, Batcher, Pipeline
from wirewatch.rules.matcher import Matcher
from wirewatch.service.article_queue import SharedMatching
from wirewatch.service.logs import register_secrets
from wirewatch.service.loop import loop_name
from wirewatch.service.metrics import Metrics
from wirewatch.service.server import start_server
from wirewatch.service.wiring import (
    build_digests,
    build_matcher,
    build_notifiers,
    delivery_claims,
    digest_claim,
    digest_configs,
    instance_name,
    open_store,
    outlet_leases,
)
from wirewatch.store.worker import worker_beside
from wirewatch.util import utcnow

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = defaults.SHUTDOWN_GRACE_S
REPORT_KEEP = 200  # a service running for months keeps only the latest polls and outcomes


@dataclass
class CycleReport:
    polls: MutableSequence[PollResult] = field(default_factory=list)
    outcomes: MutableSequence[ArticleOutcome] = field(default_factory=list)

    @classmethod
    def bounded(cls, keep: int = REPORT_KEEP) -> CycleReport:
        """A report that keeps only the latest `keep` polls and outcomes (`run_forever`)."""
        return cls(polls=deque(maxlen=keep), outcomes=deque(maxlen=keep))


class Service:
    def __init__(self, config: Config, *, notifiers: dict[str, Notifier] | None = None) -> None:
        self.config = config
        self._notifiers_override = notifiers
        self.stopping = asyncio.Event()
        self.started = asyncio.Event()
        self.report = CycleReport()
        self._tasks: list[asyncio.Task] = []
        self._processing = asyncio.Lock()
        self.batcher: Batcher[Article, ArticleOutcome] = Batcher(self._process_batch)
        self.shared_matching: SharedMatching | None = None  # PostgreSQL: set by `start`
        self._reloading = asyncio.Lock()
        self.instance = instance_name(config)
        self.metrics = Metrics()
        # several instances on one database: every sample says whose it is
        self.metrics_instance = self.instance if config.storage.engine == "postgresql" else None
        self.last_successful_poll: float | None = None  # time.monotonic()
        self.loop_lag_s = 0.0  # the latest lag the probe measured
        self.scheduler_running = False
        self._server = None
        self._lag_probe: asyncio.Task | None = None
        self._retired: list[Notifier] = []  # replaced by a reload, closed a little later
        self._closers: set[asyncio.Task] = set()
        self.slack_verifiers: Verifiers = []  # /slack/actions: who may click the buttons
        self._socket_mode: list[SocketModeListener] = []
        register_secrets(config)

    @property
    def server_address(self) -> tuple[str, int] | None:
        """(host, port) the health and metrics server listens on, once it does."""
        if self._server is None or not self._server.addresses:
            return None
        host, port = self._server.addresses[0][:2]
        return host, port

    async def prepare(self) -> None:
        """Load the model and the gazetteer and encode the watches (off the event loop).

        `start` does this itself when it has not been done; a standby (`run --wait`) does it
        first, before it may open the database.
        """
        if not hasattr(self, "matcher"):
            self.matcher = await asyncio.to_thread(build_matcher, self.config)
        await asyncio.to_thread(self.matcher.prepare)

    async def start(self) -> None:
        """Open everything; load the model and gazetteer off the event loop.

        The health server (if configured) comes up first and reports "starting" until the
        model is loaded and the scheduler runs.
        """
        log.info(
            "starting on %s as instance %s",
            redact_password(self.config.storage.url),
            self.instance,
            extra={"event": "service.starting", "instance": self.instance},
        )
        self.store = open_store(self.config)
        self._lag_probe = asyncio.create_task(self._probe_loop_lag(), name="loop-lag-probe")
        if self.config.server:
            listen = self.config.server
            self._server = await start_server(self, listen.host, listen.port)
            host, port = self.server_address or (listen.host, listen.port)
            log.info(
                "health and metrics on http://%s:%d/",
                host,
                port,
                extra={"event": "server.listening", "host": host, "port": port},
            )
        await self.prepare()
        self.store_worker = worker_beside(self.store)  # the pipeline's writes: off the loop
        self.pipeline = self._pipeline(self.matcher, self.config.watches)
        self.shared_matching = self._shared_matching()
        self.feedback = Feedback(
            self.store,
            FeedbackLearner(self.store),
            lambda: self.matcher,
            lambda: [w.name for w in self.config.watches],
        )
        await self.feedback.learner.refresh(self.matcher)  # judgements made before this start
        self.notifiers = self._notifiers_override or build_notifiers(self.config)
        self.delivery = DeliveryWorker(
            self.store,
            self.notifiers,
            on_attempt=self._count_delivery,
            claims=delivery_claims(self.config, self.store, self.instance),
        )
        self._socket_mode, self.slack_verifiers = await start_slack_feedback(
            self.config.notifiers, self.notifiers, self.feedback
        )
        self.digests = DigestSender(self.store, build_digests(self.config))
        self.digest_scheduler = self._digest_scheduler(self.config)
        self.fetcher = Fetcher(self.config.crawler)
        await self.fetcher.__aenter__()
        self.poller = Poller(self.fetcher, self.store.crawl, self.config.crawler)
        self.scheduler = CrawlScheduler(
            self.poller, self.on_poll_result, leases=outlet_leases(self.store, self.instance)
        )
        self.started.set()

    def _pipeline(self, matcher: Matcher, watches: list[WatchConfig]) -> Pipeline:
        return Pipeline(
            self.store, matcher, watches, worker=self.store_worker, on_step=self._count_step
        )

    def _shared_matching(self) -> SharedMatching | None:
        """Several instances on one database: polled articles go through the shared queue,
        and whichever instance is free matches them (`service/article_queue.py`)."""
        if not self.store.shared:
            return None
        worker = worker_beside(self.store, name="queue-store")
        return SharedMatching(worker, self.instance, self._on_queued_outcomes)

    def _on_queued_outcomes(self, outcomes: list[ArticleOutcome]) -> None:
        self.report.outcomes.extend(outcomes)
        self._count_outcomes(outcomes)
        self.delivery.wake()

    async def _take_queued(self) -> int:
        """One batch from the shared queue (reload swaps the pipeline between batches)."""
        assert self.shared_matching is not None
        async with self._processing:
            started = time.monotonic()
            taken = await self.shared_matching.take(self.pipeline)
        if taken:
            self.metrics.match_seconds.observe(time.monotonic() - started)
        return taken

    def _count_step(self, step: str, seconds: float) -> None:
        self.metrics.child(self.metrics.batch_seconds, step).inc(seconds)

    def _digest_scheduler(self, config: Config) -> DigestScheduler:
        claim = digest_claim(self.store, self.instance)
        return DigestScheduler(self.digests, digest_configs(config), claim=claim)

    async def _probe_loop_lag(self) -> None:
        """Event-loop lag: how much later than asked a short sleep wakes up, every interval."""
        loop = asyncio.get_running_loop()
        interval = defaults.LOOP_LAG_INTERVAL_S
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            self.loop_lag_s = max(0.0, loop.time() - before - interval)
            self.metrics.loop_lag.observe(self.loop_lag_s)

    async def on_poll_result(self, result: PollResult) -> None:
        self.report.polls.append(result)
        self.metrics.count_poll(result)
        if result.status == "error":
            log.warning("outlet %s: %s", result.outlet, result.error)
        else:
            self.last_successful_poll = time.monotonic()
        if not result.articles:
            return
        if self.shared_matching is not None:  # matched by whichever instance is free
            await self.shared_matching.put(list(result.articles))
            return
        outcomes = await self.batcher.submit(result.articles)
        self.report.outcomes.extend(outcomes)
        self._count_outcomes(outcomes)
        self.delivery.wake()

    async def _process_batch(self, articles: list[Article]) -> list[ArticleOutcome]:
        """One batch at a time: story assignment is sequential, and reload swaps in between."""
        async with self._processing:
            with self.metrics.match_seconds.time():
                return await self.pipeline.process(articles)

    def _count_outcomes(self, outcomes: list[ArticleOutcome]) -> None:
        watches = {w.name: w for w in self.config.watches}
        for outcome in outcomes:
            self.metrics.articles.labels(outcome.article.outlet).inc()
            for watch, decision in outcome.stories.items():
                self.metrics.matches.labels(watch).inc()
                if decision.new_story:
                    self.metrics.stories.labels(watch).inc()
                kind = "new_story" if decision.new_story else "story_update"
                self._log_decision(outcome, watch, decision.story_id, kind)
                for notifier in watches[watch].notify if watch in watches else []:
                    self.metrics.alerts.labels(notifier, kind).inc()

    @staticmethod
    def _log_decision(outcome: ArticleOutcome, watch: str, story_id: str, kind: str) -> None:
        article = outcome.article
        log.info(
            "%s: article %s from %s %s story %s",
            watch,
            article.id,
            article.outlet,
            "opened" if kind == "new_story" else "joined",
            story_id,
            extra={
                "event": "story.new" if kind == "new_story" else "story.update",
                "watch": watch,
                "story": story_id,
                "article": article.id,
                "outlet": article.outlet,
                "url": article.url,
            },
        )

    def _count_delivery(self, notifier: str, result: str) -> None:
        self.metrics.deliveries.labels(notifier, result).inc()
        if result == "delivered":
            log.info(
                "alert delivered to %s",
                notifier,
                extra={"event": "alert.delivered", "notifier": notifier},
            )

    async def run_cycle(self, *, flush_timeout_s: float = 60.0) -> CycleReport:
        """Poll every outlet once, process what is new, deliver every alert due."""
        await self.scheduler.run_once(self._outlets())
        if self.shared_matching is not None:
            while await self._take_queued():  # what this poll queued, and what others did
                pass
        await self.delivery.flush(flush_timeout_s)
        return self.report

    async def run_forever(self) -> None:
        """Poll on schedule and deliver until `stopping` is set (SIGTERM/SIGINT)."""
        if self.stopping.is_set():  # asked to stop while starting
            return
        self.report = CycleReport.bounded()  # months of polls must not pile up in memory
        self.scheduler.start(self._outlets())
        self.digest_scheduler.start()
        self.scheduler_running = True
        self._tasks.append(asyncio.create_task(self.delivery.run(self.stopping)))
        self._tasks.append(asyncio.create_task(self.feedback.watch(self.stopping)))
        if self.shared_matching is not None:
            run = self.shared_matching.run(self.stopping, self._take_queued)
            self._tasks.append(asyncio.create_task(run, name="shared-matching"))
        log.info(
            "wirewatch running: %d outlets, %d watches, %d notifiers; event loop %s",
            len(self._outlets()),
            len(self.config.watches),
            len(self.config.notifiers),
            loop_name(),
            extra={"event": "service.ready", "pid": os.getpid(), "event_loop": loop_name()},
        )
        await self.stopping.wait()

    def _outlets(self):
        return [outlet for outlet in self.config.outlets if outlet.enabled]

    # ---- reload (SIGHUP) ----------------------------------------------------------------
    async def reload(self, new: Config) -> None:
        """Apply a new, already validated config without dropping queued work (SIGHUP).

        Watches or model changed: a new matcher is swapped in between batches (the loaded
        model is kept when only watches changed). Notifiers changed: rebuilt; the old ones
        finish what they are sending and are closed a little later; alerts queued for a
        removed notifier stay in the outbox until it comes back. Outlets: jobs added,
        removed or rescheduled. Storage, crawler and server settings need a restart; a
        change is logged. Whatever fails while building the new parts (a model that does
        not load) leaves the running config in place and is raised.
        """
        await self.started.wait()
        async with self._reloading:
            try:
                await self._reload(new)
            except Exception:
                self.metrics.reloads.labels("failed").inc()
                raise
            self.metrics.reloads.labels("ok").inc()

    async def _reload(self, new: Config) -> None:
        old = self.config
        for section in ("storage", "crawler", "server"):
            if getattr(old, section) != getattr(new, section):
                log.warning("reload: %s settings change only on restart", section)
        model_changed = old.model != new.model
        matcher = None
        if model_changed:  # a second model loads next to the running one
            matcher = await asyncio.to_thread(build_matcher, new)
            await asyncio.to_thread(matcher.prepare)
        rebuild = old.notifiers != new.notifiers and self._notifiers_override is None
        notifiers = build_notifiers(new) if rebuild else None
        digests = build_digests(new) if rebuild else None
        async with self._processing:  # between batches: nothing is being matched now
            if matcher is None and old.watches != new.watches:
                matcher = Matcher(new.watches, self.matcher.encoder, self.matcher.gazetteer)
                await asyncio.to_thread(matcher.prepare)  # the shared model is idle meanwhile
            if matcher is not None:
                matcher.feedback = self.matcher.feedback  # the team's judgements carry over
                if model_changed:  # their vectors come from the old model: encode them again
                    self.feedback.learner.forget()
                await self.feedback.learner.refresh(matcher, force=True)  # heads of new watches
                if model_changed:
                    self.matcher.close()
                self.matcher = matcher
                self.pipeline = self._pipeline(matcher, new.watches)
            if notifiers is not None and digests is not None:
                self._swap_notifiers(new, notifiers, digests)
            self.config = new.model_copy(
                update={"storage": old.storage, "crawler": old.crawler, "server": old.server}
            )
        register_secrets(self.config)
        if notifiers is not None:
            await self._restart_slack_feedback()
        if self.scheduler_running:
            self.scheduler.set_outlets(self._outlets())
        self.delivery.wake()

    async def _restart_slack_feedback(self) -> None:
        """Slack's buttons through the new notifiers (their clients, an app token or signing
        secret that changed): new Socket Mode connections, then the old ones closed."""
        old = self._socket_mode
        self._socket_mode, self.slack_verifiers = await start_slack_feedback(
            self.config.notifiers, self.notifiers, self.feedback
        )
        for listener in old:
            await listener.close()

    def _swap_notifiers(
        self, new: Config, notifiers: dict[str, Notifier], digests: dict[str, EmailDigestNotifier]
    ) -> None:
        self._retire(self.notifiers.values())
        changed = [n for n, notifier in notifiers.items() if self.notifiers.get(n) is not notifier]
        self.notifiers = notifiers
        self.delivery.notifiers = dict(notifiers)
        self.delivery.retry_now(changed)  # a fixed token or URL is tried at once
        for name in list(self.delivery.last_errors):
            if name not in notifiers:
                del self.delivery.last_errors[name]
        self.digests.digests = digests
        if self.scheduler_running:
            self.digest_scheduler.shutdown()
            self.digest_scheduler = self._digest_scheduler(new)
            self.digest_scheduler.start()

    def _retire(self, notifiers: Iterable[Notifier]) -> None:
        """Close replaced notifiers once a send they may be in has had time to finish."""
        retired = list(notifiers)
        self._retired.extend(retired)
        task = asyncio.create_task(self._close_later(retired, defaults.NOTIFIER_CLOSE_DELAY_S))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    async def _close_later(self, notifiers: list[Notifier], delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        for notifier in notifiers:
            if notifier in self._retired:
                self._retired.remove(notifier)
                await _close_quietly(notifier)

    # ---- stop (SIGTERM/SIGINT) ----------------------------------------------------------
    async def stop(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Stop polling, let in-flight work finish, deliver what is due for a grace period."""
        self.stopping.set()
        self.scheduler_running = False  # /healthz says so from now on
        if hasattr(self, "scheduler"):
            await self.scheduler.shutdown()  # polls in flight finish, with their processing
            self.digest_scheduler.shutdown()
        for task in self._tasks:
            await task
        if hasattr(self, "store_worker"):  # a batch whose poll was cut short still commits,
            await self.store_worker.close()  # and its alerts get the grace period below
        if self.shared_matching is not None:
            await self.shared_matching.queue_worker.close()
        if hasattr(self, "delivery"):
            self._report_left(await self._flush_due(grace_s), grace_s)
        for listener in self._socket_mode:
            await listener.close()
        await self._close_notifiers()
        if self._server is not None:
            await self._server.cleanup()
        if self._lag_probe is not None:
            self._lag_probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_probe
        if hasattr(self, "fetcher"):
            await self.fetcher.__aexit__(None, None, None)
        if hasattr(self, "matcher"):
            self.matcher.close()
        if hasattr(self, "store"):
            self.store.close()

    def _due(self) -> int:
        """Alerts whose time has come (not in a grouping wait or a retry backoff)."""
        now = utcnow()
        return sum(
            1
            for row in self.store.outbox.pending()
            if row.notifier in self.delivery.notifiers and row.next_attempt_at <= now
        )

    async def _flush_due(self, grace_s: float) -> int:
        """Deliver alerts already due until none is left or `grace_s` is up; how many are left.

        Alerts in their grouping wait or backing off after a failure are not due: they stay
        queued in the store and go out after the next start.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while self._due() and loop.time() < deadline:
            try:
                await asyncio.wait_for(self.delivery.deliver_due(), deadline - loop.time())
            except TimeoutError:
                break
            if self._due():
                await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
        return self._due()

    def _report_left(self, due_left: int, grace_s: float) -> None:
        queued = self.delivery.pending()
        if due_left:
            log.warning(
                "shutdown grace of %gs over: %d due alerts left queued; they go out after restart",
                grace_s,
                due_left,
                extra={"event": "service.flush_incomplete", "due": due_left, "queued": queued},
            )
        elif queued:
            log.info(
                "%d alerts wait in the outbox (grouping wait or retry); they go out after restart",
                queued,
                extra={"event": "service.outbox_kept", "queued": queued},
            )

    async def _close_notifiers(self) -> None:
        for task in list(self._closers):
            task.cancel()
        for notifier in [*getattr(self, "notifiers", {}).values(), *self._retired]:
            await _close_quietly(notifier)
        self._retired.clear()


async def _close_quietly(notifier: Notifier) -> None:
    try:
        await notifier.close()
    except Exception:
        log.exception("closing notifier %s failed", notifier.name)
