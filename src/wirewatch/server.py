"""`server.listen`: /healthz (liveness and readiness as JSON) and /metrics (Prometheus)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from wirewatch.service import Service


def health(service: Service) -> tuple[bool, dict]:
    """Healthy when the store answers and the scheduler runs; details for the operator."""
    try:
        service.store.db.execute("SELECT 1").fetchone()
        store_ok = True
    except Exception:
        store_ok = False
    last_poll = service.last_successful_poll
    report = {
        "store": "ok" if store_ok else "unreachable",
        "scheduler": "running" if service.scheduler_running else "stopped",
        "last_successful_poll_age_s": None
        if last_poll is None
        else round(time.monotonic() - last_poll, 1),
        "outbox_pending": service.delivery.pending(),
        "notifier_errors": dict(service.delivery.last_errors),
    }
    return store_ok and service.scheduler_running, report


def build_app(service: Service) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        ok, report = health(service)
        report["status"] = "ok" if ok else "unhealthy"
        return web.json_response(report, status=200 if ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        service.metrics.outbox_depth.set(service.delivery.pending())
        body = generate_latest(service.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_server(service: Service, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(build_app(service), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
