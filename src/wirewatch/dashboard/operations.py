"""Outlets (health, last poll, errors, 304 share), deliveries (pending, dead letters,
retry) and silences (create, expire).

Reads go through the dashboard's reader; the few writes (requeue, add or expire a silence)
use the service's own connection on the event loop, as the service's other writes do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from wirewatch import defaults
from wirewatch.config.types import parse_duration
from wirewatch.dashboard.site import SESSION, post, redirect, refuse, render
from wirewatch.dashboard.stories import READER, SERVICE
from wirewatch.service.logs import redact_error
from wirewatch.store import views
from wirewatch.util import utcnow

STATUSES = ("pending", "dead", "delivered", "silenced")


def _service(request: web.Request) -> Any:
    return request.app[SERVICE]


async def outlets_page(request: web.Request) -> web.Response:
    states = await request.app[READER](views.outlet_health)
    rows = []
    for outlet in _service(request).config.outlets:
        state = states.get(outlet.name, {})
        polls = state.get("polls") or 0
        rows.append(
            {
                "name": outlet.name,
                "feed": outlet.feed,
                "enabled": outlet.enabled,
                "healthy": not state.get("consecutive_failures"),
                "polled": bool(polls),
                "state": state,
                "error": redact_error(state["last_error"]) if state.get("last_error") else "",
                "share_304": (state.get("not_modified") or 0) / polls if polls else None,
            }
        )
    return render(request, "outlets.html", rows=rows)


async def deliveries_page(request: web.Request) -> web.Response:
    status = request.query.get("status", "pending")
    if status not in STATUSES:
        status = "pending"
    counts, rows = await request.app[READER](_deliveries, status)
    for row in rows:
        row["last_error"] = redact_error(row["last_error"]) if row["last_error"] else ""
    return render(
        request, "deliveries.html", counts=counts, rows=rows, shown=status, statuses=STATUSES
    )


def _deliveries(db: Any, status: str) -> tuple[dict[str, int], list[dict[str, Any]]]:
    return views.delivery_counts(db), views.deliveries(
        db, status, defaults.DASHBOARD_DELIVERIES_SHOWN
    )


async def retry_deliveries(request: web.Request) -> web.StreamResponse:
    """Requeue the chosen dead (or pending) deliveries, or every dead letter."""
    service = _service(request)
    form = await request.post()
    store = service.store
    wanted = [str(v) for v in form.getall("delivery", [])]
    if form.get("all_dead"):
        wanted += [row.delivery_id for row in store.outbox.rows("dead")]
    with store.transaction():
        for row in filter(None, map(store.outbox.get, store.outbox.requeue(wanted))):
            store.decisions.record(
                decision="requeued",
                reason=f"{row.kind} {row.delivery_id} requeued from the dashboard"
                f" by {request[SESSION].user}",
                story_id=row.story_id,
                notifier=row.notifier,
            )
    delivery = getattr(service, "delivery", None)
    if delivery is not None:
        delivery.wake()
    return redirect("/deliveries?status=pending")


async def silences_page(request: web.Request) -> web.Response:
    rows = await request.app[READER](views.silences)
    now = utcnow().isoformat()
    watches = [w.name for w in _service(request).config.watches]
    return render(request, "silences.html", rows=rows, now=now, watches=watches, error=None)


async def create_silence(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    form = await request.post()
    story = str(form.get("story", "")).strip()
    target = f"story:{story}" if story else str(form.get("target", ""))
    kind, _, name = target.partition(":")
    reason = str(form.get("reason", "")).strip()[:500]
    try:
        seconds = parse_duration(str(form.get("duration", "")).strip())
    except ValueError as exc:
        return refuse(request, f"Duration: {exc}", status=400)
    watches = {w.name for w in service.config.watches}
    if kind == "watch" and name not in watches:
        return refuse(request, f"No watch {name!r} in the config.", status=400)
    if kind == "story" and service.store.stories.get(name) is None:
        return refuse(request, f"No story {name!r}.", status=400)
    if kind not in ("watch", "story") or seconds <= 0 or not reason:
        return refuse(request, "Say what to silence, for how long, and why.", status=400)
    service.store.silences.add(
        ends_at=utcnow() + timedelta(seconds=seconds),
        reason=reason,
        watch=name if kind == "watch" else None,
        story_id=name if kind == "story" else None,
        created_by=request[SESSION].user,
    )
    return redirect(
        str(form.get("back") or "/silences") if _local(form.get("back")) else "/silences"
    )


def _local(target: object) -> bool:
    return isinstance(target, str) and target.startswith("/") and not target.startswith("//")


async def expire_silence(request: web.Request) -> web.StreamResponse:
    try:
        silence_id = int(request.match_info["silence_id"])
    except ValueError:
        return refuse(request, "No such silence.", status=404)
    _service(request).store.silences.expire(silence_id)
    form = await request.post()
    back = form.get("back")
    return redirect(str(back) if _local(back) else "/silences")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/outlets", outlets_page)
    app.router.add_get("/deliveries", deliveries_page)
    post(app, "/deliveries/retry", retry_deliveries, "admin")
    app.router.add_get("/silences", silences_page)
    post(app, "/silences", create_silence, "analyst")
    post(app, "/silences/{silence_id}/expire", expire_silence, "analyst")
