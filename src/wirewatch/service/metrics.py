"""Prometheus metrics of one running service (its own registry, so tests can run several).

Where several instances share one database, every sample carries an `instance` label with
this instance's name (`labelled`), so that their series never mix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric

from wirewatch import defaults


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "wirewatch_polls", "Feed polls by outcome", ["outlet", "status"], registry=r
        )
        self.articles = Counter(
            "wirewatch_articles", "New articles processed", ["outlet"], registry=r
        )
        self.matches = Counter(
            "wirewatch_matches", "Articles that fired a watch", ["watch"], registry=r
        )
        self.stories = Counter("wirewatch_stories", "Stories opened", ["watch"], registry=r)
        self.alerts = Counter(
            "wirewatch_alerts", "Alerts written to the outbox", ["notifier", "kind"], registry=r
        )
        self.deliveries = Counter(
            "wirewatch_deliveries",
            "Delivery attempts by result",
            ["notifier", "result"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "wirewatch_outbox_pending", "Alerts waiting for delivery", registry=r
        )
        self.outbox_dead = Gauge(
            "wirewatch_outbox_dead",
            "Dead letters: alerts given up on, kept in the outbox until `wirewatch outbox retry`",
            registry=r,
        )
        self.queue_waiting = Gauge(
            "wirewatch_article_queue_waiting",
            "Polled articles waiting in the shared queue, claimed ones included (PostgreSQL)",
            registry=r,
        )
        self.queue_claimed = Gauge(
            "wirewatch_article_queue_claimed",
            "Queued articles this instance has claimed and is matching now (PostgreSQL)",
            registry=r,
        )
        self.match_seconds = Histogram(
            "wirewatch_match_seconds", "Time to encode and match one batch of articles", registry=r
        )
        self.batch_seconds = Counter(
            "wirewatch_batch_seconds",
            "Wall time of article batches by step: check (stored already?), match (encode and "
            "decide), record (the transaction, waits for other instances' locks included)",
            ["step"],
            registry=r,
        )
        self._add_operations(r)
        self._add_crawler(r)
        # `metric.labels(...)` costs a lock and a few dict look-ups; every poll of every
        # outlet needs five of them, so the children are kept here once made
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def child(self, metric: MetricWrapperBase, *labels: str) -> Any:
        """`metric.labels(*labels)`, remembered (children are never removed here)."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def count_poll(self, result: Any) -> None:
        """Count a `monitor.poller.PollResult` by outcome and update the outlet's figures."""
        self.child(self.polls, result.outlet, result.status).inc()
        self.observe_poll(result)

    def _add_operations(self, r: CollectorRegistry) -> None:
        """Health of the process itself: event loop, reloads, freshness (issue 7)."""
        self.loop_lag = Histogram(
            "wirewatch_event_loop_lag_seconds",
            "How late the event loop ran a periodic probe (time the loop was blocked)",
            buckets=defaults.LOOP_LAG_BUCKETS_S,
            registry=r,
        )
        self.not_modified_ratio = Gauge(
            "wirewatch_poll_not_modified_ratio",
            "Share of all polls since start answered 304 Not Modified",
            registry=r,
        )
        self.last_poll_age = Gauge(
            "wirewatch_last_successful_poll_age_seconds",
            "Seconds since any outlet was last polled successfully (NaN: none yet)",
            registry=r,
        )
        self.notifier_failing = Gauge(
            "wirewatch_notifier_failing",
            "1 while the notifier's last delivery attempt failed",
            ["notifier"],
            registry=r,
        )
        self.reloads = Counter(
            "wirewatch_config_reloads", "Config reloads (SIGHUP) by result", ["result"], registry=r
        )
        self.started = Gauge(
            "wirewatch_start_time_seconds", "When the service started (unix time)", registry=r
        )
        self.started.set_to_current_time()

    def poll_totals(self) -> dict[str, float]:
        """Polls since start by status, all outlets together."""
        totals: dict[str, float] = {}
        for metric in self.polls.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    status = sample.labels["status"]
                    totals[status] = totals.get(status, 0.0) + sample.value
        return totals

    def _add_crawler(self, r: CollectorRegistry) -> None:
        """Outlet health, the figures of `wirewatch outlets` (issue 3)."""
        self.outlet_failures = Gauge(
            "wirewatch_outlet_consecutive_failures",
            "Failed polls of the outlet since its last successful one",
            ["outlet"],
            registry=r,
        )
        self.outlet_last_success = Gauge(
            "wirewatch_outlet_last_success_timestamp_seconds",
            "When the outlet was last polled successfully (unix time; absent: never)",
            ["outlet"],
            registry=r,
        )
        self.outlet_not_modified_ratio = Gauge(
            "wirewatch_outlet_not_modified_ratio",
            "Share of the outlet's answered polls that were 304 Not Modified",
            ["outlet"],
            registry=r,
        )
        self.outlet_entries_per_day = Gauge(
            "wirewatch_outlet_entries_per_day",
            "New feed entries per day since the outlet was first polled (its backlog left out)",
            ["outlet"],
            registry=r,
        )
        self.new_entries = Counter(
            "wirewatch_feed_entries_new", "Feed entries not seen before", ["outlet"], registry=r
        )
        self.page_failures = Counter(
            "wirewatch_page_failures",
            "Article pages that could not be fetched or read (the feed's text was used)",
            ["outlet"],
            registry=r,
        )
        self.pages_skipped = Counter(
            "wirewatch_pages_skipped",
            "Article pages not fetched: robots.txt, or a link to a private address",
            ["outlet"],
            registry=r,
        )
        self.limited_polls = Counter(
            "wirewatch_outlet_polls_limited",
            "Polls a limit cut something from: entries or pages per poll, field lengths",
            ["outlet"],
            registry=r,
        )
        self.entries_waiting = Gauge(
            "wirewatch_outlet_entries_waiting",
            "New feed entries the last poll left for the next ones (entries per poll limit)",
            ["outlet"],
            registry=r,
        )

    def observe_poll(self, result: Any) -> None:
        """Update the outlet's figures from a `monitor.poller.PollResult`."""
        outlet, child = result.outlet, self.child
        if result.new_entries:
            child(self.new_entries, outlet).inc(result.new_entries)
        if result.page_failures:
            child(self.page_failures, outlet).inc(result.page_failures)
        if result.pages_skipped:
            child(self.pages_skipped, outlet).inc(result.pages_skipped)
        if result.limits:
            child(self.limited_polls, outlet).inc()
        health = result.health
        if health is None:
            return
        child(self.outlet_failures, outlet).set(health.consecutive_failures)
        child(self.entries_waiting, outlet).set(health.entries_waiting)
        if health.last_success is not None:
            child(self.outlet_last_success, outlet).set(health.last_success.timestamp())
        if health.not_modified_ratio is not None:
            child(self.outlet_not_modified_ratio, outlet).set(health.not_modified_ratio)
        if health.entries_per_day is not None:
            child(self.outlet_entries_per_day, outlet).set(health.entries_per_day)


class InstanceLabelled:
    """A registry's metrics with `instance="NAME"` added to every sample (a collector view
    that `generate_latest` renders like the registry itself)."""

    def __init__(self, registry: CollectorRegistry, instance: str) -> None:
        self.registry = registry
        self.instance = instance

    def collect(self) -> Iterator[Metric]:
        for metric in self.registry.collect():
            labelled = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            labelled.samples = [
                sample._replace(labels={**sample.labels, "instance": self.instance})
                for sample in metric.samples
            ]
            yield labelled


def labelled(registry: CollectorRegistry, instance: str | None) -> Any:
    """What /metrics renders: the registry, its samples labelled when `instance` is set."""
    return registry if instance is None else InstanceLabelled(registry, instance)
