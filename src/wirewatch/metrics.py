"""Prometheus metrics of one running service (its own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        self.match_seconds = Histogram(
            "wirewatch_match_seconds", "Time to encode and match one batch of articles", registry=r
        )
