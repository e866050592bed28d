"""The crawler's HTTP client against a real local server: limits hold while bodies stream."""

import asyncio
import contextlib
import socket
import time

import pytest

from tests.fixtures.outlets import OutletServer, crawler_settings
from wirewatch import defaults
from wirewatch.monitor.fetch import Fetcher, is_public_address
from wirewatch.util import parse_retry_after

MB = defaults.MB


def fast(**overrides):
    return crawler_settings(**{"per_host_delay": 0.0, **overrides})


async def test_conditional_get_gets_304_with_the_etag(outlet_server: OutletServer) -> None:
    url = outlet_server.add_page("/feed", "<rss/>", content_type="application/rss+xml")
    async with Fetcher(fast()) as fetcher:
        first = await fetcher.get(url, max_bytes=MB, allow_private=True)
        second = await fetcher.get(url, max_bytes=MB, etag=first.etag, allow_private=True)
        by_date = await fetcher.get(
            url, max_bytes=MB, last_modified=first.last_modified, allow_private=True
        )
    assert first.ok and first.body == b"<rss/>" and first.etag
    assert second.status == 304 and second.body == b""
    assert outlet_server.requests[1].headers["If-None-Match"] == first.etag
    assert by_date.status == 304


async def test_streamed_body_over_the_limit_is_refused_early(outlet_server: OutletServer) -> None:
    url = outlet_server.add_huge("/huge", 50 * MB)
    async with Fetcher(fast()) as fetcher:
        result = await fetcher.get(url, max_bytes=1 * MB, allow_private=True)
        await asyncio.sleep(0.1)  # let the server notice the hang-up
    assert not result.ok and "exceeds 1.0 MB limit" in result.error
    assert result.body == b""
    assert outlet_server.bytes_sent["/huge"] < 20 * MB  # stopped long before 50 MB


async def test_declared_length_over_the_limit_is_refused_unread(
    outlet_server: OutletServer,
) -> None:
    url = outlet_server.add_huge("/huge", 50 * MB, declare_length=True)
    async with Fetcher(fast()) as fetcher:
        result = await fetcher.get(url, max_bytes=1 * MB, allow_private=True)
    assert "Content-Length 52428800" in result.error


async def test_gzip_bomb_stops_at_the_limit(outlet_server: OutletServer) -> None:
    url = outlet_server.add_gzip_bomb("/bomb", 64 * MB)
    assert len(outlet_server._resources["/bomb"].body) < MB  # small on the wire
    async with Fetcher(fast()) as fetcher:
        result = await fetcher.get(url, max_bytes=2 * MB, allow_private=True)
    assert not result.ok and "exceeds 2.0 MB limit" in result.error


async def test_slow_outlet_times_out_with_a_clear_error(outlet_server: OutletServer) -> None:
    url = outlet_server.add_page("/slow", "late", delay=3)
    async with Fetcher(fast(total_timeout=0.3)) as fetcher:
        started = time.monotonic()
        result = await fetcher.get(url, max_bytes=MB, allow_private=True)
    assert time.monotonic() - started < 2
    assert result.status == 0 and result.error == "timed out after 0.3 s"


async def test_redirects_are_followed_and_loops_stopped(outlet_server: OutletServer) -> None:
    outlet_server.add_page("/final", "here")
    outlet_server.add_redirect("/a", "/b", 301)
    outlet_server.add_redirect("/b", outlet_server.url("/final"))
    outlet_server.add_redirect("/loop1", "/loop2")
    outlet_server.add_redirect("/loop2", "/loop1")
    for i in range(8):
        outlet_server.add_redirect(f"/chain{i}", f"/chain{i + 1}")
    async with Fetcher(fast(max_redirects=5)) as fetcher:
        ok = await fetcher.get(outlet_server.url("/a"), max_bytes=MB, allow_private=True)
        loop = await fetcher.get(outlet_server.url("/loop1"), max_bytes=MB, allow_private=True)
        chain = await fetcher.get(outlet_server.url("/chain0"), max_bytes=MB, allow_private=True)
    assert ok.ok and ok.body == b"here" and ok.final_url == outlet_server.url("/final")
    assert "redirect loop" in loop.error
    assert "too many redirects" in chain.error
    assert outlet_server.hits("/chain6") == 0


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data"],
)
async def test_private_addresses_are_refused_unless_allowed(target: str) -> None:
    async with Fetcher(fast(connect_timeout=0.2, total_timeout=0.5)) as fetcher:
        result = await fetcher.get(target, max_bytes=MB, allow_private=False)
    assert result.error.startswith("refused:") and "private address" in result.error


async def test_configured_url_on_loopback_is_fetched_but_its_redirect_elsewhere_is_not(
    outlet_server: OutletServer,
) -> None:
    """The operator's feed URL may be local; a redirect to another private host may not."""
    outlet_server.add_page("/page", "ok")
    outlet_server.add_redirect("/to-metadata", "http://169.254.169.254/latest/meta-data")
    outlet_server.add_redirect("/same-host", "/page")
    async with Fetcher(fast()) as fetcher:
        same = await fetcher.get(outlet_server.url("/same-host"), max_bytes=MB, allow_private=True)
        away = await fetcher.get(
            outlet_server.url("/to-metadata"), max_bytes=MB, allow_private=True
        )
        link = await fetcher.get(outlet_server.url("/page"), max_bytes=MB, allow_private=False)
    assert same.ok
    assert "refused: 169.254.169.254 is a private address" in away.error
    assert "refused" in link.error
    assert outlet_server.hits("/page") == 1  # the refused link never reached the server


async def test_per_host_concurrency_is_bounded(outlet_server: OutletServer) -> None:
    urls = [outlet_server.add_page(f"/p{i}", "x", delay=0.1) for i in range(6)]
    async with Fetcher(fast(per_host_concurrency=2)) as fetcher:
        results = await asyncio.gather(
            *(fetcher.get(u, max_bytes=MB, allow_private=True) for u in urls)
        )
    assert all(r.ok for r in results)
    assert outlet_server.max_in_flight == 2


async def test_per_host_delay_spaces_requests(outlet_server: OutletServer) -> None:
    urls = [outlet_server.add_page(f"/p{i}", "x") for i in range(3)]
    async with Fetcher(fast(per_host_delay=0.2)) as fetcher:
        started = time.monotonic()
        await asyncio.gather(*(fetcher.get(u, max_bytes=MB, allow_private=True) for u in urls))
    assert time.monotonic() - started >= 0.4


async def test_retry_after_is_reported(outlet_server: OutletServer) -> None:
    url = outlet_server.add_page("/feed", "ok")
    outlet_server.fail("/feed", 429, retry_after=120)
    async with Fetcher(fast()) as fetcher:
        limited = await fetcher.get(url, max_bytes=MB, allow_private=True)
        again = await fetcher.get(url, max_bytes=MB, allow_private=True)
    assert limited.status == 429 and limited.retry_after_s == 120 and not limited.ok
    assert again.ok


async def test_connection_refused_is_an_error_not_an_exception() -> None:
    async with Fetcher(fast()) as fetcher:
        result = await fetcher.get("http://127.0.0.1:9/feed", max_bytes=MB, allow_private=True)
    assert result.status == 0 and result.error.startswith("cannot connect to 127.0.0.1:9")


async def test_non_http_urls_are_refused() -> None:
    async with Fetcher(fast()) as fetcher:
        result = await fetcher.get("file:///etc/passwd", max_bytes=MB, allow_private=True)
    assert "only http(s) URLs" in result.error


def test_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-3") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_public_address_classification() -> None:
    assert is_public_address("93.184.216.34")
    for private in [
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
    ]:
        assert not is_public_address(private), private


async def test_a_body_that_stops_coming_is_a_read_timeout(outlet_server: OutletServer) -> None:
    url = outlet_server.add_stall("/stall")
    async with Fetcher(fast(read_timeout=0.3, total_timeout=10)) as fetcher:
        result = await fetcher.get(url, max_bytes=MB, allow_private=True)
    assert result.status == 0 and result.error == "read timed out: no data for 0.3 s"


async def test_a_slow_but_steady_body_is_no_read_timeout(outlet_server: OutletServer) -> None:
    url = outlet_server.add_drip("/drip", b"x" * 100, pieces=12, interval=0.1)
    async with Fetcher(fast(read_timeout=0.6, total_timeout=10)) as fetcher:
        result = await fetcher.get(url, max_bytes=MB, allow_private=True)
    assert result.ok and result.body == b"x" * 1200  # 1.2 s in all, never 0.6 s without data


async def test_headers_that_never_come_are_a_read_timeout(outlet_server: OutletServer) -> None:
    url = outlet_server.add_page("/late", "late", delay=3)
    async with Fetcher(fast(read_timeout=0.3, total_timeout=10)) as fetcher:
        started = time.monotonic()
        result = await fetcher.get(url, max_bytes=MB, allow_private=True)
    assert time.monotonic() - started < 1.5
    assert result.status == 0 and result.error == "read timed out: no data for 0.3 s"


async def test_a_caller_that_gives_up_gets_its_cancellation_not_a_timeout(
    outlet_server: OutletServer,
) -> None:
    late = outlet_server.add_page("/late", "late", delay=3)
    quick = outlet_server.add_page("/quick", "quick")
    async with Fetcher(fast(read_timeout=10, total_timeout=10)) as fetcher:
        with pytest.raises(TimeoutError):  # asyncio.wait_for's own, after it cancelled get()
            await asyncio.wait_for(fetcher.get(late, max_bytes=MB, allow_private=True), 0.2)
        result = await fetcher.get(quick, max_bytes=MB, allow_private=True)
    assert result.ok and result.body == b"quick"


async def test_timeouts_of_many_requests_in_flight_each_fire(outlet_server: OutletServer) -> None:
    slow = [outlet_server.add_page(f"/slow{i}", "late", delay=5) for i in range(5)]
    quick = [outlet_server.add_page(f"/quick{i}", "quick") for i in range(5)]
    async with Fetcher(fast(total_timeout=1, per_host_concurrency=10)) as fetcher:
        results = await asyncio.gather(
            *(fetcher.get(u, max_bytes=MB, allow_private=True) for u in slow + quick)
        )
    assert [r.error for r in results[:5]] == ["timed out after 1 s"] * 5
    assert all(r.ok for r in results[5:])


async def test_a_server_that_never_accepts_is_a_connect_timeout() -> None:
    """A listening socket whose accept queue is full: the SYN goes unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # fill the accept queue; nobody ever accepts
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        await asyncio.sleep(0.05)
        async with Fetcher(fast(connect_timeout=0.3, total_timeout=10)) as fetcher:
            result = await fetcher.get(
                f"http://127.0.0.1:{port}/", max_bytes=MB, allow_private=True
            )
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert result.status == 0 and result.error == "connect timed out after 0.3 s"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_compressed_bodies_are_decoded(outlet_server: OutletServer, encoding: str) -> None:
    url = outlet_server.add_page("/feed", "<rss>" + "news " * 1000 + "</rss>", encoding=encoding)
    async with Fetcher(fast()) as fetcher:
        result = await fetcher.get(url, max_bytes=MB, allow_private=True)
    assert result.ok and result.body.startswith(b"<rss>news news") and len(result.body) == 5011
    assert encoding in outlet_server.requests[-1].headers["Accept-Encoding"]


async def test_every_request_carries_the_configured_user_agent(
    outlet_server: OutletServer,
) -> None:
    url = outlet_server.add_page("/feed", "x")
    async with Fetcher(fast(user_agent="acme-soc/2.0 (+https://acme.example/bot)")) as fetcher:
        await fetcher.get(url, max_bytes=MB, allow_private=True)
    assert outlet_server.requests[-1].headers["User-Agent"] == (
        "acme-soc/2.0 (+https://acme.example/bot)"
    )
