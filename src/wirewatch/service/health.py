"""`/healthz`: liveness and readiness as JSON.

It answers 200 when the service is ready (the store answers, the model is loaded and
the crawl scheduler runs) and 503 otherwise: while it starts, while it shuts down, or
when the database cannot be read. Its body says why, with the age of the last successful
poll, the event loop's lag, the outbox depth and each failing notifier's last error
(redacted: a receiver's URL shows as `scheme://host/…`, known secrets as `***`). Any
answer at all means the process and its event loop are alive.

Where several instances share one database, it also says which instance this is and
which instance holds what: `instances` maps each live instance to the outlets it holds a
lease on and the alerts it is sending now, and `article_queue` says how many polled
articles wait in the shared queue and how many this instance has claimed (is matching now).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from wirewatch.service.logs import redact_error

if TYPE_CHECKING:
    from wirewatch.service.service import Service


def store_reachable(service: Service) -> bool:
    return service.store.reachable()


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
        "notifier_errors": (
            {name: redact_error(error) for name, error in delivery.last_errors.items()}
            if delivery
            else {}
        ),
    }
    report["instance"] = getattr(service, "instance", None)
    store = getattr(service, "store", None)
    if store is not None and store.shared and store_ok:
        report["instances"] = who_holds_what(service)
        report["article_queue"] = article_queue(service)
    return ready, report


def article_queue(service: Service) -> dict[str, int | None]:
    """{"waiting": articles in the shared queue, claimed ones included; "claimed": this
    instance's} (PostgreSQL; None before the service has started its matching)."""
    matching = getattr(service, "shared_matching", None)
    return {
        "waiting": service.store.queue.depth(),
        "claimed": None if matching is None else matching.claimed,
    }


def who_holds_what(service: Service) -> dict[str, dict[str, int]]:
    """Instance → {"outlets": leases held, "sending": alerts claimed}, from the database."""
    outlets = service.store.leases.outlets_held()
    sending = service.store.outbox.claims()
    return {
        name: {"outlets": outlets.get(name, 0), "sending": sending.get(name, 0)}
        for name in sorted(outlets.keys() | sending.keys() | {service.instance})
    }
