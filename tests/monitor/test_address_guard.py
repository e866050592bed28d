"""The private-address guard: the operator's IP literal is trusted, an outlet's DNS is not.

Only loopback is ever connected to: host names are mapped onto 127.0.0.1 by a resolver
handed to the Fetcher, as an outlet's DNS re-pointed at an internal address would be.
"""

import ipaddress
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given
from hypothesis import strategies as st

from tests.fixtures.outlets import OutletServer, crawler_settings, outlet
from wirewatch import defaults
from wirewatch.monitor import fetch as fetch_module
from wirewatch.monitor.fetch import Fetcher, is_public_address
from wirewatch.monitor.poller import Poller
from wirewatch.store import Store

MB = defaults.MB
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
NAME = "feeds.example.test"
REFUSED = (
    f"refused: {NAME} resolves to 127.0.0.1, a private address "
    "(see crawler.allow_private_addresses)"
)


class MappedResolver(AbstractResolver):
    """DNS as the tests want it: `names` → addresses; any other name does not exist."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        if host not in self.names:
            raise OSError(socket.EAI_NONAME, "Name or service not known")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.names[host]
        ]

    async def close(self) -> None:
        pass


def fetcher(allow_private_addresses: bool = False, **names: list[str]) -> Fetcher:
    settings = crawler_settings(
        per_host_delay=0,
        allow_private_addresses=allow_private_addresses,
        connect_timeout=0.5,
        total_timeout=2,
    )
    return Fetcher(settings, resolver=MappedResolver({NAME: ["127.0.0.1"], **names}))


def by_name(server: OutletServer, path: str, name: str = NAME) -> str:
    return f"http://{name}:{server.port}{path}"


# ---- feed URLs: the operator's IP literal, not a name ------------------------------------


async def test_a_feed_host_name_resolving_to_loopback_is_refused(
    outlet_server: OutletServer,
) -> None:
    outlet_server.add_page("/feed", "<rss/>")
    async with fetcher() as client:
        result = await client.get(by_name(outlet_server, "/feed"), max_bytes=MB, allow_private=True)
    assert result.status == 0 and result.error == REFUSED
    assert outlet_server.hits("/feed") == 0  # refused before a byte was sent


async def test_the_same_feed_is_fetched_when_private_addresses_are_allowed(
    outlet_server: OutletServer,
) -> None:
    outlet_server.add_page("/feed", "<rss/>")
    async with fetcher(allow_private_addresses=True) as client:
        result = await client.get(by_name(outlet_server, "/feed"), max_bytes=MB, allow_private=True)
    assert result.ok and result.body == b"<rss/>"


async def test_the_feed_ip_written_literally_is_fetched(outlet_server: OutletServer) -> None:
    url = outlet_server.add_page("/feed", "<rss/>")
    assert url.startswith("http://127.0.0.1:")
    async with fetcher() as client:
        result = await client.get(url, max_bytes=MB, allow_private=True)
    assert result.ok and result.body == b"<rss/>"


@pytest_asyncio.fixture
async def ipv6_loopback_server() -> AsyncIterator[int]:
    async def feed(_: web.Request) -> web.Response:
        return web.Response(text="<rss/>")

    app = web.Application()
    app.router.add_get("/feed", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "::1", 0)
        await site.start()
    except OSError:
        await runner.cleanup()
        pytest.skip("no IPv6 loopback here")
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_an_ipv6_loopback_literal_feed_is_fetched(ipv6_loopback_server: int) -> None:
    url = f"http://[::1]:{ipv6_loopback_server}/feed"
    async with fetcher() as client:
        trusted = await client.get(url, max_bytes=MB, allow_private=True)
        linked = await client.get(url, max_bytes=MB, allow_private=False)
    assert trusted.ok and trusted.body == b"<rss/>"
    assert linked.error.startswith("refused: ::1 is a private address")


async def test_a_redirect_from_the_literal_feed_to_a_private_name_is_refused(
    outlet_server: OutletServer,
) -> None:
    outlet_server.add_page("/elsewhere", "internal")
    outlet_server.add_redirect("/feed", by_name(outlet_server, "/elsewhere"))
    outlet_server.add_redirect("/other-ip", f"http://127.0.0.2:{outlet_server.port}/elsewhere")
    async with fetcher() as client:
        named = await client.get(outlet_server.url("/feed"), max_bytes=MB, allow_private=True)
        other = await client.get(outlet_server.url("/other-ip"), max_bytes=MB, allow_private=True)
    assert named.error == REFUSED
    assert other.error == "refused: 127.0.0.2 is a private address"
    assert outlet_server.hits("/elsewhere") == 0


async def test_a_name_with_several_private_addresses_names_them(
    outlet_server: OutletServer,
) -> None:
    outlet_server.add_page("/feed", "<rss/>")
    names = {NAME: ["127.0.0.1", "192.0.2.1"]}  # 192.0.2.0/24 is TEST-NET: not public either
    async with fetcher(**names) as client:
        result = await client.get(by_name(outlet_server, "/feed"), max_bytes=MB, allow_private=True)
    assert result.error == (
        f"refused: {NAME} resolves to private addresses only (127.0.0.1, 192.0.2.1) "
        "(see crawler.allow_private_addresses)"
    )
    assert outlet_server.hits("/feed") == 0


@pytest.mark.skipif(not fetch_module._CONNECTOR_GUARD, reason="aiohttp < 3.12: no socket factory")
async def test_the_connected_address_is_checked_even_if_the_resolver_let_it_through(
    outlet_server: OutletServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket factory is the last word: it sees the address the socket connects to."""
    outlet_server.add_page("/feed", "<rss/>")

    async def unguarded(self, host, port=0, family=socket.AF_INET):
        return await self._inner.resolve(host, port, family)

    monkeypatch.setattr(fetch_module._GuardedResolver, "resolve", unguarded)
    async with fetcher() as client:
        result = await client.get(by_name(outlet_server, "/feed"), max_bytes=MB, allow_private=True)
    assert result.error == "refused: 127.0.0.1 is a private address"
    assert outlet_server.hits("/feed") == 0


@pytest.mark.parametrize(
    "host", ["[::ffff:127.0.0.1]", "[2002:7f00:1::1]", "[2002:a9fe:a9fe::]", "[64:ff9b::a00:5]"]
)
async def test_ipv6_literals_carrying_a_private_ipv4_are_refused(host: str) -> None:
    async with fetcher() as client:
        result = await client.get(f"http://{host}/latest", max_bytes=MB, allow_private=False)
    assert result.error.startswith("refused: ") and "is a private address" in result.error


# ---- what the operator sees ------------------------------------------------------------


async def test_the_outlets_health_says_why_its_feed_is_refused(
    outlet_server: OutletServer,
) -> None:
    outlet_server.add_feed("/feed", [])
    feed = by_name(outlet_server, "/feed")
    settings = crawler_settings(per_host_delay=0)  # allow_private_addresses: false
    async with fetcher() as client:
        result = await Poller(client, Store(":memory:").crawl, settings, clock=lambda: NOW).poll(
            outlet("dawn", feed)
        )
    assert result.status == "error" and result.error == f"feed {feed}: {REFUSED}"
    assert result.health is not None and result.health.last_error == result.error
    assert outlet_server.hits("/feed") == 0


async def test_article_links_to_a_private_name_are_skipped(outlet_server: OutletServer) -> None:
    outlet_server.add_article("/news/1", "Inside", ["A paragraph long enough to matter. " * 4])
    items = [
        {
            "title": "Inside",
            "url": by_name(outlet_server, "/news/1"),
            "summary": "Feed summary.",
            "published": NOW,
        }
    ]
    feed = outlet_server.add_feed("/feed", items)  # on 127.0.0.1, written literally: trusted
    settings = crawler_settings(per_host_delay=0)
    async with fetcher() as client:
        result = await Poller(client, Store(":memory:").crawl, settings, clock=lambda: NOW).poll(
            outlet("dawn", feed)
        )
    assert result.status == "ok" and result.pages_skipped == 1
    assert [(a.text, a.text_source) for a in result.articles] == [("Feed summary.", "feed")]
    assert outlet_server.hits("/news/1") == 0 and outlet_server.hits("/robots.txt") == 0


# ---- is_public_address looks inside IPv6 forms of IPv4 addresses ---------------------

PRIVATE_V4 = [
    ipaddress.IPv4Network(n)
    for n in [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ]
]
ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
private_ipv4 = st.one_of(
    st.sampled_from(PRIVATE_V4).flatmap(
        lambda net: st.integers(0, net.num_addresses - 1).map(lambda i: net[i])
    ),
    ipv4.filter(lambda a: not is_public_address(str(a))),
)
bits = st.integers(0, 2**16 - 1)


def carriers(v4: ipaddress.IPv4Address, a: int, b: int, c: int) -> dict[str, str]:
    """`v4` inside each IPv6 form that carries an IPv4 address; a, b, c: other 16-bit fields."""
    n = int(v4)
    return {
        "mapped": str(ipaddress.IPv6Address((0xFFFF << 32) | n)),
        "nat64": str(ipaddress.IPv6Address((0x64FF9B << 96) | n)),
        "6to4": str(ipaddress.IPv6Address((0x2002 << 112) | (n << 80) | (a << 64) | b)),
        "teredo": str(  # 2001:0:server:flags:port:client, port and client inverted
            ipaddress.IPv6Address(
                (0x20010000 << 96)
                | ((a << 16 | b) << 64)
                | (c << 48)
                | ((~a & 0xFFFF) << 32)
                | (~n & 0xFFFF_FFFF)
            )
        ),
    }


@given(private_ipv4, bits, bits, bits)
def test_an_embedded_private_ipv4_is_never_public(v4, a, b, c) -> None:
    assert not is_public_address(str(v4))
    for form, address in carriers(v4, a, b, c).items():
        assert not is_public_address(address), (form, address)


@given(ipv4.filter(lambda a: is_public_address(str(a))), bits, bits)
def test_a_public_ipv4_stays_public_when_mapped_translated_or_6to4(v4, a, b) -> None:
    """DNS64 answers 64:ff9b::a.b.c.d for every IPv4-only outlet: those must still work."""
    forms = carriers(v4, a, b, 0)
    assert all(is_public_address(forms[f]) for f in ("mapped", "nat64", "6to4")), forms


def test_embedded_examples() -> None:
    assert ipaddress.IPv6Address("2002:7f00:1::").sixtofour == ipaddress.IPv4Address("127.0.0.1")
    for private in ["2002:7f00:1::", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "::ffff:10.0.0.5"]:
        assert not is_public_address(private), private
    for public in ["2002:5db8:d822::1", "64:ff9b::5db8:d822", "::ffff:93.184.216.34"]:
        assert is_public_address(public), public
