"""`server.listen`: /healthz (health.py), /metrics (Prometheus, metrics.py),
/slack/actions (the clicks of Slack's feedback buttons, feedback/slack.py) and, unless
`server.dashboard` is false, the dashboard (wirewatch.dashboard).

`/metrics` brings the gauges that are computed rather than counted (outbox depth, 304
ratio, last-poll age, failing notifiers) up to date, then renders the service's registry
in a worker thread (with a thousand outlets that takes long enough to stall polling).
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wirewatch.feedback.slack import ACTIONS_PATH, actions_route
from wirewatch.service.health import health, last_poll_age, store_reachable
from wirewatch.service.metrics import labelled

if TYPE_CHECKING:
    from wirewatch.service.service import Service


def refresh_gauges(service: Service) -> None:
    """Set the metrics read from the service's state at scrape time (on the event loop)."""
    metrics = service.metrics
    delivery = getattr(service, "delivery", None)
    if delivery is not None and store_reachable(service):
        metrics.outbox_depth.set(delivery.pending())
        metrics.outbox_dead.set(delivery.dead())
        for name in delivery.notifiers:
            metrics.notifier_failing.labels(name).set(1 if name in delivery.last_errors else 0)
    matching = getattr(service, "shared_matching", None)
    if matching is not None and store_reachable(service):
        metrics.queue_waiting.set(service.store.queue.depth())
        metrics.queue_claimed.set(matching.claimed)
    age = last_poll_age(service)
    metrics.last_poll_age.set(math.nan if age is None else age)


def render(service: Service) -> bytes:
    """The Prometheus page; reads metrics only, so it may run in a worker thread."""
    metrics = service.metrics
    polls = metrics.poll_totals()
    total = sum(polls.values())
    metrics.not_modified_ratio.set(polls.get("not_modified", 0.0) / total if total else 0.0)
    return generate_latest(labelled(metrics.registry, service.metrics_instance))


def build_app(service: Service) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        ready, report = health(service)
        return web.json_response(report, status=200 if ready else 503)

    async def metrics(_request: web.Request) -> web.Response:
        refresh_gauges(service)  # reads the store: on the loop, where its connection lives
        # Thousands of per-outlet series take a while to render: not on the event loop.
        body = await asyncio.to_thread(render, service)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    # Slack's feedback buttons in request-URL mode (feedback/slack.py)
    app.router.add_post(ACTIONS_PATH, actions_route(lambda: service.slack_verifiers))
    if service.config.server is not None and service.config.server.dashboard:
        from wirewatch.dashboard import setup_dashboard

        setup_dashboard(app, service)
    return app


async def start_server(service: Service, host: str, port: int) -> web.AppRunner:
    """Serve /healthz and /metrics on host:port (port 0: any free port, see `.addresses`)."""
    runner = web.AppRunner(build_app(service), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
