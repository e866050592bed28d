"""Feed documents for the feed tests: two items rendered in every format outlets publish."""

from datetime import UTC, datetime

from hypothesis import HealthCheck, settings

from tests.fixtures.outlets import OutletServer

FEED_URL = "https://news.example.org/feed"
ITEMS = [
    {
        "id": "tag:news.example.org,2026:1",
        "title": "Gunmen storm checkpoints in Kech",
        "url": "https://news.example.org/news/1?utm_source=rss#top",
        "summary": "Attackers struck three checkpoints <b>at once</b>.",
        "published": datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
    },
    {
        "id": "tag:news.example.org,2026:2",
        "title": "Mobile internet suspended in Quetta",
        "url": "https://news.example.org/news/2",
        "summary": "Authorities cited security concerns.",
        "published": datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
    },
]


def render(kind: str, items: list[dict] = ITEMS) -> bytes:
    server = OutletServer()  # only its feed renderers; never started
    server.port = 8080
    server.add_feed("/feed", items, kind=kind, title="Example News")
    return server._resources["/feed"].body


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
