"""`server.listen`: /healthz (liveness and readiness as JSON) and /metrics (Prometheus).

`/healthz` answers 200 when the service is ready (the store answers, the model is loaded
and the crawl scheduler runs) and 503 otherwise: while it starts, while it shuts down, or
when the database cannot be read. Its body says why, with the age of the last successful
poll, the event loop's lag, the outbox depth and each failing notifier's last error. Any
answer at all means the process and its event loop are alive.

`/metrics` brings the gauges that are computed rather than counted (outbox depth, 304
ratio, last-poll age, failing notifiers) up to date, then renders the service's registry
in a worker thread (with a thousand outlets that takes long enough to stall polling).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from wirewatch.service import Service


def store_reachable(service: Service) -> bool:
    try:
        service.store.db.execute("SELECT 1").fetchone()
    except Exception:
        return False
    return True


def scheduler_state(service: Service) -> str:
    if not service.started.is_set():
        return "starting"
    scheduler = getattr(service, "scheduler", None)
    if service.scheduler_running and scheduler is not None and scheduler.running:
        return "running"
    return "stopped"


def last_poll_age(service: Service) -> float | None:
    last = service.last_successful_poll
    return None if last is None else time.monotonic() - last


def health(service: Service) -> tuple[bool, dict[str, Any]]:
    """(ready, details): ready when the store answers and the scheduler runs."""
    store_ok = store_reachable(service)
    scheduler = scheduler_state(service)
    age = last_poll_age(service)
    delivery = getattr(service, "delivery", None)
    ready = store_ok and scheduler == "running"
    report = {
        "status": "ok" if ready else ("starting" if scheduler == "starting" else "unhealthy"),
        "live": True,
        "ready": ready,
        "store": "ok" if store_ok else "unreachable",
        "scheduler": scheduler,
        "last_successful_poll_age_s": None if age is None else round(age, 1),
        "event_loop_lag_s": round(service.loop_lag_s, 4),
        "outbox_pending": delivery.pending() if delivery and store_ok else None,
        "notifier_errors": dict(delivery.last_errors) if delivery else {},
    }
    return ready, report


def refresh_gauges(service: Service) -> None:
    """Set the metrics read from the service's state at scrape time (on the event loop)."""
    metrics = service.metrics
    delivery = getattr(service, "delivery", None)
    if delivery is not None and store_reachable(service):
        metrics.outbox_depth.set(delivery.pending())
        metrics.outbox_dead.set(delivery.dead())
        for name in delivery.notifiers:
            metrics.notifier_failing.labels(name).set(1 if name in delivery.last_errors else 0)
    age = last_poll_age(service)
    metrics.last_poll_age.set(math.nan if age is None else age)


def render(service: Service) -> bytes:
    """The Prometheus page; reads metrics only, so it may run in a worker thread."""
    metrics = service.metrics
    polls = metrics.poll_totals()
    total = sum(polls.values())
    metrics.not_modified_ratio.set(polls.get("not_modified", 0.0) / total if total else 0.0)
    return generate_latest(metrics.registry)


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
    return app


async def start_server(service: Service, host: str, port: int) -> web.AppRunner:
    """Serve /healthz and /metrics on host:port (port 0: any free port, see `.addresses`)."""
    runner = web.AppRunner(build_app(service), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
