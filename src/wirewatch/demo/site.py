"""The demo's local news site: real feeds and article pages served by aiohttp on 127.0.0.1.

Every outlet gets a feed at `/{path}/feed` in its own format (RSS 2.0, Atom 1.0 or
JSON Feed 1.1) and one HTML page per article at `/{path}/{slug}`, wrapped in the
boilerplate of a real news site (menu, cookie banner, donation box, related links,
comments, footer) so that the crawler's page extraction has real work to do.

Feeds carry `ETag` and `Last-Modified` and answer conditional requests with 304.
`publish()` and `unpublish()` change what is served while the site runs.

Publication times: when the site starts it shifts every article's `published` by one
offset (`DemoSite.offset`) so that the newest of the initial articles is
`FRESHEST_AGE` old. Relative times between reports are kept, and the crawler's
backfill rule (entries older than a day are not matched on a first poll) keeps them.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from wirewatch.demo.articles import DemoArticle, DemoOutlet, FeedKind

FRESHEST_AGE = timedelta(minutes=5)
FEED_LIMIT = 50  # entries per feed, newest first
RELATED_LIMIT = 3
RESERVED_SLUGS = frozenset({"feed", ""})
ROBOTS_TXT = "User-agent: *\nDisallow: /admin\nAllow: /\n"
ATOM_NS = "http://www.w3.org/2005/Atom"
JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"
CONTENT_TYPES: dict[FeedKind, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
# Characters that XML 1.0 forbids anywhere, even escaped, plus the C1 controls it
# discourages (feed readers guess them to be windows-1252 and turn them into letters).
_XML_INVALID = re.compile("[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class DemoRequest:
    """One request the site answered."""

    method: str
    path: str
    status: int


@dataclass(frozen=True)
class FeedItem:
    """One feed entry, as served: absolute link, shifted publication time."""

    id: str
    url: str
    title: str
    summary: str
    published: datetime


@dataclass(frozen=True)
class FeedDocument:
    """Everything a feed renderer needs about one outlet's feed."""

    title: str
    home_url: str
    feed_url: str
    updated: datetime
    items: tuple[FeedItem, ...]


# ---- feed rendering (pure functions) ------------------------------------------------------


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 forbids (escaping is ElementTree's job)."""
    return _XML_INVALID.sub("", value)


def rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


def _xml_bytes(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def render_rss(doc: FeedDocument) -> bytes:
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", doc.title)
    _sub(channel, "link", doc.home_url)
    _sub(channel, "description", f"Latest news from {doc.title}")
    _sub(channel, "language", "en")
    _sub(channel, "lastBuildDate", rfc822(doc.updated))
    _sub(channel, "atom:link", href=doc.feed_url, rel="self", type=CONTENT_TYPES["rss"])
    for item in doc.items:
        entry = _sub(channel, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "link", item.url)
        _sub(entry, "guid", item.id, isPermaLink="false")
        _sub(entry, "description", item.summary)
        _sub(entry, "pubDate", rfc822(item.published))
    return _xml_bytes(rss)


def render_atom(doc: FeedDocument) -> bytes:
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "title", doc.title)
    _sub(feed, "id", doc.feed_url)
    _sub(feed, "updated", rfc3339(doc.updated))
    _sub(feed, "link", href=doc.home_url, rel="alternate", type="text/html")
    _sub(feed, "link", href=doc.feed_url, rel="self", type=CONTENT_TYPES["atom"])
    author = _sub(feed, "author")
    _sub(author, "name", f"{doc.title} newsroom")
    for item in doc.items:
        entry = _sub(feed, "entry")
        _sub(entry, "title", item.title, type="text")
        _sub(entry, "id", item.id)
        _sub(entry, "link", href=item.url, rel="alternate", type="text/html")
        _sub(entry, "published", rfc3339(item.published))
        _sub(entry, "updated", rfc3339(item.published))
        _sub(entry, "summary", item.summary, type="text")
    return _xml_bytes(feed)


def render_json_feed(doc: FeedDocument) -> bytes:
    document = {
        "version": JSONFEED_VERSION,
        "title": doc.title,
        "home_page_url": doc.home_url,
        "feed_url": doc.feed_url,
        "language": "en",
        "items": [
            {
                "id": item.id,
                "url": item.url,
                "title": item.title,
                "summary": item.summary,
                "content_text": item.summary,
                "date_published": rfc3339(item.published),
            }
            for item in doc.items
        ],
    }
    return json.dumps(document, indent=2).encode("utf-8")


RENDERERS: dict[FeedKind, Callable[[FeedDocument], bytes]] = {
    "rss": render_rss,
    "atom": render_atom,
    "json": render_json_feed,
}


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def is_not_modified(request: web.Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; otherwise If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.if_modified_since
    return since is not None and last_modified <= since


# ---- the site -------------------------------------------------------------------------------


class DemoSite:
    """The demo outlets on a real local HTTP server; use as `async with DemoSite(...) as site`.

    `now` fixes the moment the publication times are rebased to (default: the clock at
    start); `rebase=False` serves the articles' own times.
    """

    def __init__(
        self,
        articles: Iterable[DemoArticle],
        outlets: Iterable[DemoOutlet],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        now: datetime | None = None,
        rebase: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.outlets: dict[str, DemoOutlet] = {}
        for outlet in outlets:
            self._add_outlet(outlet)
        self._articles: dict[str, dict[str, DemoArticle]] = {name: {} for name in self.outlets}
        for article in articles:
            self._store(article)
        self.requests: list[DemoRequest] = []
        self.offset = timedelta(0)
        self._now = now
        self._rebase = rebase
        self._changed: dict[str, datetime] = {}
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._templates = Environment(
            loader=PackageLoader("wirewatch.demo", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        )

    # ---- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("DemoSite already started")
        now = (self._now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.offset = self._offset(now) if self._rebase else timedelta(0)
        self._changed = dict.fromkeys(self.outlets, datetime.now(UTC).replace(microsecond=0))
        runner = web.AppRunner(self._app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _offset(self, now: datetime) -> timedelta:
        dates = [a.published for by_slug in self._articles.values() for a in by_slug.values()]
        if not dates:
            return timedelta(0)
        return (now - FRESHEST_AGE) - max(dates)

    # ---- public API -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://host:port` without a trailing slash; only while the site runs."""
        if self._base_url is None:
            raise RuntimeError("DemoSite is not running")
        return self._base_url

    def feed_url(self, outlet: DemoOutlet | str) -> str:
        return f"{self.base_url}/{self._outlet(outlet).path}/feed"

    def article_url(self, article: DemoArticle) -> str:
        return f"{self.base_url}/{self.outlets[article.outlet].path}/{article.slug}"

    def published(self, article: DemoArticle) -> datetime:
        """The publication time the site serves for `article` (rebased)."""
        return article.published + self.offset

    def articles(self, outlet: DemoOutlet | str) -> list[DemoArticle]:
        """The articles `outlet` currently serves, newest first."""
        name = self._outlet(outlet).name
        return sorted(self._articles[name].values(), key=lambda a: a.published, reverse=True)

    def publish(self, article: DemoArticle) -> None:
        """Add `article` to its outlet's feed (or replace the one with the same slug)."""
        self._store(article)
        self._touch(article.outlet)

    def unpublish(self, slug: str, outlet: DemoOutlet | str | None = None) -> int:
        """Remove the article(s) with `slug` (from `outlet`, or any); returns how many."""
        names = [self._outlet(outlet).name] if outlet is not None else list(self.outlets)
        removed = 0
        for name in names:
            if self._articles[name].pop(slug, None) is not None:
                removed += 1
                self._touch(name)
        return removed

    # ---- content --------------------------------------------------------------------------

    def _add_outlet(self, outlet: DemoOutlet) -> None:
        if outlet.feed_kind not in RENDERERS:
            raise ValueError(f"outlet {outlet.name}: unknown feed kind {outlet.feed_kind!r}")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", outlet.path) or outlet.path == "robots.txt":
            raise ValueError(f"outlet {outlet.name}: path {outlet.path!r} is not a plain name")
        if outlet.name in self.outlets or any(o.path == outlet.path for o in self.outlets.values()):
            raise ValueError(f"outlet {outlet.name}: duplicate name or path")
        self.outlets[outlet.name] = outlet

    def _store(self, article: DemoArticle) -> None:
        if article.outlet not in self.outlets:
            raise ValueError(f"article {article.slug}: unknown outlet {article.outlet!r}")
        if article.slug in RESERVED_SLUGS or "/" in article.slug:
            raise ValueError(f"article slug {article.slug!r} is reserved or not a plain name")
        if article.published.tzinfo is None:
            raise ValueError(f"article {article.slug}: published must be timezone-aware")
        self._articles[article.outlet][article.slug] = article

    def _touch(self, outlet_name: str) -> None:
        """Move the outlet's Last-Modified forward (HTTP dates have one-second resolution)."""
        previous = self._changed.get(outlet_name)
        now = datetime.now(UTC).replace(microsecond=0)
        self._changed[outlet_name] = max(now, previous + timedelta(seconds=1)) if previous else now

    def _outlet(self, outlet: DemoOutlet | str) -> DemoOutlet:
        name = outlet.name if isinstance(outlet, DemoOutlet) else outlet
        try:
            return self.outlets[name]
        except KeyError:
            raise KeyError(f"unknown demo outlet {name!r}") from None

    def _by_path(self, path: str) -> DemoOutlet:
        for outlet in self.outlets.values():
            if outlet.path == path:
                return outlet
        raise web.HTTPNotFound(text="no such outlet")

    def feed_document(self, outlet: DemoOutlet) -> FeedDocument:
        items = tuple(
            FeedItem(
                id=f"urn:wirewatch-demo:{outlet.path}:{article.slug}",
                url=self.article_url(article),
                title=article.title,
                summary=article.summary,
                published=self.published(article),
            )
            for article in self.articles(outlet)[:FEED_LIMIT]
        )
        return FeedDocument(
            title=outlet.title,
            home_url=f"{self.base_url}/{outlet.path}/",
            feed_url=self.feed_url(outlet),
            updated=self._changed[outlet.name],
            items=items,
        )

    def _article_page(self, outlet: DemoOutlet, article: DemoArticle) -> str:
        published = self.published(article)
        related = [a for a in self.articles(outlet) if a.slug != article.slug][:RELATED_LIMIT]
        return self._templates.get_template("article.html").render(
            outlet=outlet,
            article=article,
            related=related,
            url=self.article_url(article),
            feed_url=self.feed_url(outlet),
            feed_type=CONTENT_TYPES[outlet.feed_kind],
            published_iso=rfc3339(published),
            published_human=published.strftime("%d %B %Y, %H:%M UTC"),
            year=published.year,
        )

    def _index_page(self, heading: str, links: list[dict[str, str]]) -> str:
        return self._templates.get_template("index.html").render(heading=heading, links=links)

    # ---- HTTP -----------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._log_requests])
        app.router.add_get("/", self._home)
        app.router.add_get("/robots.txt", self._robots)
        app.router.add_get("/{outlet}/", self._outlet_home)
        app.router.add_get("/{outlet}/feed", self._feed)
        app.router.add_get("/{outlet}/{slug}", self._article)
        return app

    @web.middleware
    async def _log_requests(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self.requests.append(DemoRequest(request.method, request.path, exc.status))
            raise
        self.requests.append(DemoRequest(request.method, request.path, response.status))
        return response

    async def _home(self, request: web.Request) -> web.Response:
        links = [{"href": f"/{o.path}/", "text": o.title} for o in self.outlets.values()]
        return _html(self._index_page("wirewatch demo outlets", links))

    async def _robots(self, request: web.Request) -> web.Response:
        return web.Response(text=ROBOTS_TXT, content_type="text/plain")

    async def _outlet_home(self, request: web.Request) -> web.Response:
        outlet = self._by_path(request.match_info["outlet"])
        links = [
            {"href": f"/{outlet.path}/{a.slug}", "text": a.title} for a in self.articles(outlet)
        ]
        links.append({"href": f"/{outlet.path}/feed", "text": "Feed"})
        return _html(self._index_page(outlet.title, links))

    async def _feed(self, request: web.Request) -> web.Response:
        outlet = self._by_path(request.match_info["outlet"])
        body = RENDERERS[outlet.feed_kind](self.feed_document(outlet))
        etag = etag_of(body)
        last_modified = self._changed[outlet.name]
        headers = {
            "ETag": etag,
            "Last-Modified": rfc822(last_modified),
            "Cache-Control": "no-cache",
        }
        if is_not_modified(request, etag, last_modified):
            return web.Response(status=304, headers=headers)
        content_type = f"{CONTENT_TYPES[outlet.feed_kind]}; charset=utf-8"
        return web.Response(body=body, headers={**headers, "Content-Type": content_type})

    async def _article(self, request: web.Request) -> web.Response:
        outlet = self._by_path(request.match_info["outlet"])
        article = self._articles[outlet.name].get(request.match_info["slug"])
        if article is None:
            raise web.HTTPNotFound(text="no such article")
        return _html(self._article_page(outlet, article))


def _html(text: str, **kwargs: Any) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8", **kwargs)
