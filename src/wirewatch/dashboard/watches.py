"""A watch: its definition, recent decisions and near misses, precision from the team's
judgements, and "try it": pasted text or a URL decided by the running service's own matcher,
or the watch (or an edited copy of it: threshold, description, examples, exclude phrases,
regions) run over the stored articles of the last N days (bounded; matching runs off the
event loop, in the matcher's worker threads, and an edited copy shares the loaded model) to
show what it would have sent."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from wirewatch import defaults
from wirewatch.config.schema import WatchConfig
from wirewatch.dashboard.site import post, refuse, render
from wirewatch.dashboard.stories import READER, SERVICE
from wirewatch.models import Article, WatchMatch
from wirewatch.rules.matcher import Matcher
from wirewatch.store import views
from wirewatch.util import utcnow

REPLAY_BATCH = 64


def _watch(request: web.Request) -> Any:
    name = request.match_info["watch"]
    return next((w for w in request.app[SERVICE].config.watches if w.name == name), None)


async def watches_page(request: web.Request) -> web.Response:
    return render(request, "watches.html", watches=request.app[SERVICE].config.watches)


async def watch_page(request: web.Request, **extra: Any) -> web.Response:
    watch = _watch(request)
    if watch is None:
        return refuse(request, f"No watch {request.match_info['watch']!r}.", status=404)
    decisions, feedback = await request.app[READER](_watch_data, watch.name)
    context = {"tried": None, "replay": None, "text": "", "days": 1, **extra}
    return render(
        request,
        "watch.html",
        watch=watch,
        decisions=decisions,
        feedback=feedback,
        margin=defaults.DASHBOARD_NEAR_MISS_MARGIN,
        max_days=defaults.DASHBOARD_REPLAY_MAX_DAYS,
        **context,
    )


def _watch_data(db: Any, name: str) -> tuple[dict[str, Any], views.WatchFeedback]:
    decisions = views.watch_decisions(
        db,
        name,
        limit=defaults.DASHBOARD_DECISIONS_SHOWN,
        near_margin=defaults.DASHBOARD_NEAR_MISS_MARGIN,
    )
    return decisions, views.watch_feedback(db, name, defaults.DASHBOARD_JUDGEMENTS_SHOWN)


def _matcher(request: web.Request) -> Any:
    return getattr(request.app[SERVICE], "matcher", None)


async def try_watch(request: web.Request) -> web.StreamResponse:
    """Decide pasted text (first line: the title) or a fetched URL, as the service would."""
    watch, matcher = _watch(request), _matcher(request)
    if watch is None or matcher is None:
        return refuse(request, "The watch or the model is not ready yet.", status=503)
    form = await request.post()
    text = str(form.get("text", ""))[: defaults.DASHBOARD_TRY_MAX_CHARS]
    try:
        article = await _article(request, text.strip())
    except ValueError as exc:
        return await watch_page(request, tried={"error": str(exc)}, text=text)
    [(_, matches)] = await matcher.match_articles([article])
    match = next((m for m in matches if m.watch == watch.name), None)
    return await watch_page(request, tried={"article": article, "match": match}, text=text)


async def _article(request: web.Request, text: str) -> Article:
    from wirewatch.cli.explain import SourceError, article_from_bytes

    if not text:
        raise ValueError("Paste an article's text (its first line is the title) or a URL.")
    try:
        if text.startswith(("http://", "https://")) and "\n" not in text:
            return await _fetch_article(request, text)
        return article_from_bytes(text.encode(), "the pasted text")
    except SourceError as exc:
        raise ValueError(str(exc)) from None


async def _fetch_article(request: web.Request, url: str) -> Article:
    from wirewatch.cli.explain import article_from_bytes

    service = request.app[SERVICE]
    fetcher = getattr(service, "fetcher", None)
    if fetcher is None:
        raise ValueError("The crawler is not running yet: paste the text instead.")
    crawler = service.config.crawler
    result = await fetcher.get(
        url, max_bytes=crawler.page_max_bytes, allow_private=crawler.allow_private_addresses
    )
    if result.error or result.status != 200:
        raise ValueError(f"{url}: {result.error or f'HTTP {result.status}'}")
    return article_from_bytes(result.body, url, url=result.final_url or url)


async def replay_watch(request: web.Request) -> web.StreamResponse:
    """The watch over the stored articles of the last N days: those it would match."""
    watch, matcher = _watch(request), _matcher(request)
    if watch is None or matcher is None:
        return refuse(request, "The watch or the model is not ready yet.", status=503)
    form = await request.post()
    try:
        days = min(max(int(str(form.get("days", "1"))), 1), defaults.DASHBOARD_REPLAY_MAX_DAYS)
    except ValueError:
        days = 1
    try:
        edited = edited_watch(watch, form)
        matcher = await matcher_for(matcher, edited)
    except ValueError as exc:
        return await watch_page(request, replay={"error": str(exc)}, days=days)
    since = utcnow() - timedelta(days=days)
    rows = await request.app[READER](
        views.articles_since, since, defaults.DASHBOARD_REPLAY_MAX_ARTICLES
    )
    articles = [_stored_article(row) for row in rows]
    hits: list[tuple[Article, WatchMatch]] = []
    for start in range(0, len(articles), REPLAY_BATCH):
        batch = articles[start : start + REPLAY_BATCH]
        for article, (_, matches) in zip(batch, await matcher.match_articles(batch), strict=True):
            hits += [(article, m) for m in matches if m.watch == watch.name and m.matched]
    replay = {
        "edited": edited,
        "days": days,
        "articles": len(articles),
        "capped": len(articles) >= defaults.DASHBOARD_REPLAY_MAX_ARTICLES,
        "hits": sorted(hits, key=lambda pair: pair[0].published),
    }
    return await watch_page(request, replay=replay, days=days)


def _lines(value: object) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def edited_watch(watch: WatchConfig, form: Any) -> WatchConfig | None:
    """The copy of `watch` the replay form describes, or None when nothing was changed."""
    if "threshold" not in form:
        return None
    data = watch.model_dump()
    data.update(
        threshold=str(form.get("threshold", "")).strip(),
        description=str(form.get("description", "")).strip(),
        examples=_lines(form.get("examples")),
        exclude=_lines(form.get("exclude")),
        regions=[r.strip() for r in str(form.get("regions", "")).split(",") if r.strip()],
    )
    try:
        edited = WatchConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"The edited watch is not valid: {problems}") from None
    return None if edited == watch else edited


async def matcher_for(base: Matcher, edited: WatchConfig | None) -> Matcher:
    """The service's matcher, or one for the edited copy alone on the same loaded model."""
    if edited is None:
        return base
    for region in edited.regions:
        if base.gazetteer.resolve_region(region) is None:
            raise ValueError(base.gazetteer.unknown_region(region))
    copy = Matcher([edited], base.encoder, base.gazetteer, detectors=base.detectors)
    await asyncio.to_thread(copy.prepare)
    return copy


def _stored_article(row: dict[str, Any]) -> Article:
    return Article(
        id=row["id"],
        outlet=row["outlet"],
        url=row["url"],
        title=row["title"],
        text=row["text"],
        published=datetime.fromisoformat(row["published"]),
        language=row["language"],
        text_source=row["text_source"],
    )


async def explain_page(request: web.Request) -> web.Response:
    """`wirewatch explain` for one stored article, through the service's own matcher."""
    from wirewatch.rules.explain import format_explanation

    matcher = _matcher(request)
    if matcher is None:
        return refuse(request, "The model is not loaded yet.", status=503)
    row = await request.app[READER](views.article, request.match_info["article_id"])
    if row is None:
        return refuse(request, "No such article.", status=404)
    article = _stored_article(row)
    [(encoding, matches)] = await matcher.match_articles([article])
    config = request.app[SERVICE].config
    text = format_explanation(
        article, encoding, matches, config.watches, matcher.prepared, config.model.name
    )
    return render(request, "explain.html", article=article, explanation=text)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/articles/{article_id}/explain", explain_page)
    app.router.add_get("/watches", watches_page)
    app.router.add_get("/watches/{watch}", watch_page)
    post(app, "/watches/{watch}/try", try_watch, "analyst")
    post(app, "/watches/{watch}/replay", replay_watch, "analyst")
