"""The team's judgements from the dashboard: Relevant / Not relevant on a story's page
(`POST /stories/ID/feedback`) and Undo (`POST /judgements/ID/undo`), both for analysts.

Both go through `service.feedback` (feedback/api.py), the one path Slack's buttons and the CLI
take too, so the running watch learns from a click at once. The story form judges one of the
story's sources for the story's watch, by default its headline report, the one Slack's
buttons judge; `who` is the logged-in user ("local" on an open loopback dashboard).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wirewatch.dashboard.site import SESSION, post, redirect, refuse, safe_next
from wirewatch.dashboard.stories import SERVICE
from wirewatch.feedback import FeedbackError

VERDICTS = {"relevant": True, "not-relevant": False}
NOT_READY = "The service is still starting (loading its model): try again in a moment."


def _feedback(request: web.Request) -> Any:
    """`service.feedback`, or None while the service starts (it comes with the model)."""
    return getattr(request.app[SERVICE], "feedback", None)


async def judge_story(request: web.Request) -> web.StreamResponse:
    story_id = request.match_info["story_id"]
    feedback = _feedback(request)
    if feedback is None:
        return refuse(request, NOT_READY, status=503)
    story = feedback.store.stories.get(story_id)
    if story is None:
        return refuse(request, f"No story {story_id}.", status=404)
    form = await request.post()
    verdict = VERDICTS.get(str(form.get("verdict", "")))
    if verdict is None:
        return refuse(request, "Choose Relevant or Not relevant.", status=400)
    article = str(form.get("article", ""))
    if article not in {s.article_id for s in story.sources}:
        return refuse(request, f"That article is not a source of story {story_id}.", status=400)
    try:
        await feedback.judge(
            article,
            story.watch,
            verdict,
            request[SESSION].user or "unknown",
            note=str(form.get("note") or "") or None,
            source="dashboard",
        )
    except FeedbackError as exc:
        return refuse(request, str(exc), status=400)
    return redirect(f"/stories/{story_id}#feedback-h")


async def undo_judgement(request: web.Request) -> web.StreamResponse:
    try:
        judgement_id = int(request.match_info["judgement_id"])
    except ValueError:
        return refuse(request, "No such judgement.", status=404)
    form = await request.post()
    feedback = _feedback(request)
    if feedback is None:
        return refuse(request, NOT_READY, status=503)
    if not await feedback.undo(judgement_id, request[SESSION].user or "unknown"):
        return refuse(request, f"No active judgement #{judgement_id}.", status=404)
    return redirect(safe_next(str(form.get("back") or "")))


def add_routes(app: web.Application) -> None:
    post(app, "/stories/{story_id}/feedback", judge_story, "analyst")
    post(app, "/judgements/{judgement_id}/undo", undo_judgement, "analyst")
