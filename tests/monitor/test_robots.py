"""robots.txt: a site's rules keep the crawler off its pages, asked once per site."""

from tests.fixtures.outlets import OutletServer, crawler_settings
from tests.monitor.test_address_guard import MappedResolver
from wirewatch.monitor.fetch import Fetcher
from wirewatch.monitor.robots import RobotsCache

UA = "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)"


async def test_disallow_is_respected_and_cached(outlet_server: OutletServer) -> None:
    outlet_server.set_robots("User-agent: *\nDisallow: /private/\n")
    async with Fetcher(crawler_settings(per_host_delay=0)) as fetcher:
        robots = RobotsCache(fetcher, UA)
        assert not await robots.allowed(outlet_server.url("/private/a"), allow_private=True)
        assert await robots.allowed(outlet_server.url("/news/a"), allow_private=True)
        assert not await robots.allowed(outlet_server.url("/private/b"), allow_private=True)
    assert outlet_server.hits("/robots.txt") == 1


async def test_rules_for_our_user_agent(outlet_server: OutletServer) -> None:
    outlet_server.set_robots("User-agent: wirewatch\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    async with Fetcher(crawler_settings(per_host_delay=0)) as fetcher:
        assert not await RobotsCache(fetcher, UA).allowed(
            outlet_server.url("/a"), allow_private=True
        )
        assert await RobotsCache(fetcher, "otherbot/1.0").allowed(
            outlet_server.url("/a"), allow_private=True
        )


async def test_missing_robots_allows_and_errors_are_asked_again(
    outlet_server: OutletServer,
) -> None:
    now = [0.0]
    async with Fetcher(crawler_settings(per_host_delay=0)) as fetcher:
        robots = RobotsCache(fetcher, UA, error_ttl_s=60, clock=lambda: now[0])
        assert await robots.allowed(outlet_server.url("/a"), allow_private=True)  # 404
        outlet_server.set_robots("User-agent: *\nDisallow: /\n")
        assert await robots.allowed(outlet_server.url("/a"), allow_private=True)  # cached 404
        assert outlet_server.hits("/robots.txt") == 1

        other = RobotsCache(fetcher, UA, error_ttl_s=60, clock=lambda: now[0])
        outlet_server.fail("/robots.txt", 503)
        assert await other.allowed(outlet_server.url("/a"), allow_private=True)  # 5xx: allowed
        now[0] = 61.0
        assert not await other.allowed(outlet_server.url("/a"), allow_private=True)  # asked again


async def test_robots_txt_of_a_name_resolving_to_loopback_is_not_fetched(
    outlet_server: OutletServer,
) -> None:
    """An article link's host name pointed at an internal address: not even robots.txt."""
    outlet_server.set_robots("User-agent: *\nAllow: /\n")
    names = MappedResolver({"news.example.test": ["127.0.0.1"]})
    async with Fetcher(crawler_settings(per_host_delay=0), resolver=names) as fetcher:
        page = f"http://news.example.test:{outlet_server.port}/a"
        assert await RobotsCache(fetcher, UA).allowed(page, allow_private=False)  # unreachable
        assert await RobotsCache(fetcher, UA).allowed(page, allow_private=True)  # a name: no trust
    assert names.lookups == ["news.example.test"] * 2
    assert outlet_server.hits("/robots.txt") == 0
