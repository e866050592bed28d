"""The stories page (`/`, live), one story (`/stories/ID`) and its Mute button.

`/stories/rows` is the stories table alone, with the same filters: the page's script asks
for it every few seconds and swaps it in when it changed, so new stories appear without a
reload. The story page's feedback block posts to `judgements.py`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from aiohttp import web

from wirewatch import defaults
from wirewatch.dashboard.mapsvg import story_map, warm_in_background
from wirewatch.dashboard.reader import Reader
from wirewatch.dashboard.site import SESSION, post, redirect, refuse, render
from wirewatch.store import views
from wirewatch.util import utcnow

READER = web.AppKey("reader", Reader)
SERVICE = web.AppKey("service", object)
TIME_CHOICES = {"1h": 1, "6h": 6, "24h": 24, "7d": 24 * 7, "30d": 24 * 30}
MAX_LIMIT = 500


def story_filter(query: dict[str, str] | web.MultiDictProxy) -> views.StoryFilter:
    """The filter a query string asks for; unknown values are ignored, not errors."""
    hours = TIME_CHOICES.get(query.get("time", ""))
    try:
        limit = min(max(int(query.get("limit", defaults.DASHBOARD_PAGE_SIZE)), 1), MAX_LIMIT)
    except ValueError:
        limit = defaults.DASHBOARD_PAGE_SIZE
    return views.StoryFilter(
        watch=query.get("watch") or None,
        region=query.get("region") or None,
        since=utcnow() - timedelta(hours=hours) if hours else None,
        limit=limit,
    )


async def stories_page(request: web.Request) -> web.Response:
    reader = request.app[READER]
    warm_in_background()
    where = story_filter(request.query)
    rows, choices = await reader(_page_data, where)
    return render(
        request,
        "stories.html",
        rows=rows,
        choices=choices,
        chosen={k: request.query.get(k, "") for k in ("watch", "region", "time")},
        times=list(TIME_CHOICES),
        limit=where.limit,
        poll_ms=int(defaults.DASHBOARD_POLL_S * 1000),
        request_query=request.query_string,
    )


def _page_data(db, where: views.StoryFilter):
    return views.story_rows(db, where), views.story_filters(db)


async def story_rows(request: web.Request) -> web.Response:
    rows = await request.app[READER](views.story_rows, story_filter(request.query))
    return render(request, "_story_rows.html", rows=rows)


async def story_page(request: web.Request) -> web.Response:
    story_id = request.match_info["story_id"]
    detail = await request.app[READER](views.story_detail, story_id)
    if detail is None:
        return refuse(request, f"No story {story_id}.", status=404)
    now = utcnow()
    active = [
        s
        for s in detail.silences
        if datetime.fromisoformat(s["starts_at"]) <= now < datetime.fromisoformat(s["ends_at"])
    ]
    return render(
        request,
        "story.html",
        detail=detail,
        story=detail.story,
        silenced=active,
        verdicts=detail.verdicts(),
        map_svg=await asyncio.to_thread(story_map, detail.story.places),
        mute_hours=int(defaults.DASHBOARD_MUTE_S // 3600),
    )


async def mute_story(request: web.Request) -> web.StreamResponse:
    """Silence one story for DASHBOARD_MUTE_S (on the service's own connection: a write)."""
    story_id = request.match_info["story_id"]
    service = request.app[SERVICE]
    store = service.store  # type: ignore[attr-defined]
    if store.stories.get(story_id) is None:
        return refuse(request, f"No story {story_id}.", status=404)
    form = await request.post()
    reason = str(form.get("reason") or "").strip() or "muted from the dashboard"
    store.silences.add(
        ends_at=utcnow() + timedelta(seconds=defaults.DASHBOARD_MUTE_S),
        reason=reason[:500],
        story_id=story_id,
        created_by=request[SESSION].user,
    )
    return redirect(f"/stories/{story_id}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", stories_page)
    app.router.add_get("/stories/rows", story_rows)
    app.router.add_get("/stories/{story_id}", story_page)
    post(app, "/stories/{story_id}/mute", mute_story, "analyst")
