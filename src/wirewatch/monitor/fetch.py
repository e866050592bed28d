"""HTTP GET for the crawler: one aiohttp session, hard limits, no surprises.

Every limit holds while the response streams in, not after: the body size
(counted after decompression, so a gzip bomb stops at the limit), redirects
(followed here, one hop at a time, so each hop passes the private-address
guard), and the connect/read/total timeouts. Network trouble never raises:
it comes back as `FetchResult.error`.

Concurrency: at most `concurrency` requests at once (a semaphore in front of the
connector, whose own waiting list is costly with thousands of hosts queued), at
most `per_host_concurrency` per host, and `per_host_delay` between two requests to
one host. Time spent waiting for a turn does not count against the total timeout.

Timeouts: the connect timeout is aiohttp's; the read and total timeouts of every
request in flight are checked by one `_Watchdog` every `FETCH_TIMEOUT_TICK_S`, not
by two or three timers armed and cancelled per request (sampled at thousands of
polls a second, those were about a tenth of the time of a poll answered 304). They
fire up to one tick late.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import ipaddress
import math
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict
from yarl import URL

from wirewatch import defaults
from wirewatch.util import parse_retry_after

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

try:  # brotli is optional: aiohttp decodes "br" only when it is importable
    import brotli  # noqa: F401

    ACCEPT_ENCODING = "gzip, deflate, br"
except ImportError:
    ACCEPT_ENCODING = "gzip, deflate"


class CrawlerSettings(Protocol):
    """The attributes of the `crawler` config section that the fetcher reads."""

    user_agent: str
    concurrency: int
    per_host_concurrency: int
    per_host_delay: float
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_redirects: int


@dataclass
class FetchResult:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int  # 0 when no HTTP response came back
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    headers: Mapping[str, str] = field(default_factory=CIMultiDict)
    retry_after_s: float | None = None  # from a Retry-After header
    error: str | None = None  # network, size, redirect or address trouble; None otherwise

    @property
    def ok(self) -> bool:
        """A 2xx response read in full."""
        return self.error is None and 200 <= self.status < 300


class FetchRefused(Exception):
    """A request the fetcher will not make or finish; the message is the user's error."""


# ---- private-address guard ------------------------------------------------------------

_allow_private: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "wirewatch_allow_private", default=False
)


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, reserved, multicast and unspecified addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
    )


class _GuardedResolver(AbstractResolver):
    """Drops non-public addresses at connect time, so a DNS answer that changes
    between the check and the connection (rebinding) cannot reach them."""

    def __init__(self) -> None:
        self._inner = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if _allow_private.get():
            return results
        public = [r for r in results if is_public_address(r["host"])]
        if not public:
            raise OSError(f"{host} resolves only to private addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()


async def check_public_host(host: str, port: int) -> None:
    """Raise `FetchRefused` unless every address of `host` is public."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchRefused(f"DNS lookup failed for {host}: {_reason(exc)}") from None
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            raise FetchRefused(f"refused: {host} is a private address ({address})")


# ---- timeouts --------------------------------------------------------------------------


class _TimedOut(Exception):
    """The watchdog stopped a request: `kind` is "read" or "total"."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(eq=False, slots=True)
class _Watch:
    """One request in flight: its task, and when its read and total timeouts run out."""

    task: asyncio.Task[Any]
    deadline: float  # time.monotonic() by which the request must be done
    read_s: float
    read_deadline: float  # the next byte must come by then (from the start: the headers)
    expired: str | None = None

    def progressed(self) -> None:
        self.read_deadline = time.monotonic() + self.read_s

    def overdue(self, now: float) -> str | None:
        if now >= self.deadline:
            return "total"
        return "read" if now >= self.read_deadline else None


class _Watchdog:
    """Cancels requests whose read or total timeout ran out, checking every `tick_s`.

    The check runs only while requests are in flight. A cancelled request raises
    `CancelledError` inside `_Hop._request`, which turns it into `_TimedOut`.
    """

    def __init__(self, tick_s: float) -> None:
        self.tick_s = tick_s
        self._watches: set[_Watch] = set()
        self._checker: asyncio.Task[None] | None = None

    def watch(self, started: float, total_s: float, read_s: float) -> _Watch:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Fetcher.get must run in a task")
        watch = _Watch(task, started + total_s, read_s, started + read_s)
        self._watches.add(watch)
        if self._checker is None or self._checker.get_loop() is not task.get_loop():
            self._checker = task.get_loop().create_task(self._check(), name="fetch-timeouts")
        return watch

    def forget(self, watch: _Watch) -> None:
        self._watches.discard(watch)

    def stop(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            self._checker = None

    async def _check(self) -> None:
        me = asyncio.current_task()
        try:
            while self._watches:
                await asyncio.sleep(self.tick_s)
                now = time.monotonic()
                for watch in [w for w in self._watches if w.expired is None]:
                    kind = watch.overdue(now)
                    if kind is not None:
                        watch.expired = kind
                        watch.task.cancel()
        finally:
            if self._checker is me:
                self._checker = None


# ---- the fetcher ---------------------------------------------------------------------


class Fetcher:
    """Owns the crawler's HTTP session; use as `async with Fetcher(config) as fetcher`."""

    def __init__(self, config: CrawlerSettings) -> None:
        self.config = config
        self.allow_private_elsewhere = bool(
            getattr(config, "allow_private_addresses", defaults.ALLOW_PRIVATE_ADDRESSES)
        )
        self._session: aiohttp.ClientSession | None = None
        # Requests beyond the connector's limit wait here, not in the connector, whose
        # waiter bookkeeping grows with the number of hosts waiting.
        self._slots = asyncio.Semaphore(config.concurrency)
        self._next_turn_at: dict[tuple[str, int], float] = {}  # per host: the first free turn
        self.watchdog = _Watchdog(defaults.FETCH_TIMEOUT_TICK_S)

    async def __aenter__(self) -> Fetcher:
        self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.config.concurrency,
                limit_per_host=self.config.per_host_concurrency,
                resolver=_GuardedResolver(),
                use_dns_cache=False,  # every new connection goes through the guard
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={
                    "User-Agent": self.config.user_agent,
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
                cookie_jar=aiohttp.DummyCookieJar(),
                # read and total timeouts: the watchdog's
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.config.connect_timeout),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        self.watchdog.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool,
        accept: str | None = None,
    ) -> FetchResult:
        """GET `url`, following redirects; never raises for network reasons.

        `allow_private=True` trusts `url` itself (an address the operator configured):
        it may be on loopback or a private network, and so may redirects that stay on
        its host. A redirect to another host is trusted only when the crawler config
        says `allow_private_addresses`, so a public feed cannot bounce the crawler
        onto 169.254.169.254 or the intranet.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        hop = _Hop(self, url, headers, max_bytes, allow_private)
        return await hop.run()

    async def wait_turn(self, host: str, port: int) -> None:
        """Space requests to one host by at least `per_host_delay` seconds.

        Each request books the host's next free turn before it waits (nothing awaits
        between reading and booking), so turns go first come, first served, with no lock.
        """
        delay = self.config.per_host_delay
        if delay <= 0:
            return
        key = (host, port)
        now = time.monotonic()
        turn = max(now, self._next_turn_at.get(key, 0.0))
        self._next_turn_at[key] = turn + delay
        if len(self._next_turn_at) > defaults.HOST_TURNS_MAX:
            self._forget_idle_hosts(now)
        if turn > now:
            await asyncio.sleep(turn - now)

    def _forget_idle_hosts(self, now: float) -> None:
        for key, at in list(self._next_turn_at.items()):
            if at < now:
                del self._next_turn_at[key]


class _Hop:
    """One `Fetcher.get` call: a chain of requests through redirects."""

    def __init__(
        self,
        fetcher: Fetcher,
        url: str,
        headers: dict[str, str],
        max_bytes: int,
        allow_private: bool,
    ) -> None:
        self.fetcher = fetcher
        self.url = url
        self.current = url
        self.headers = headers
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.allow_private_elsewhere = fetcher.allow_private_elsewhere
        self.origin_host: str | None = None
        self.budget = fetcher.config.total_timeout  # seconds left; waiting for a turn is free

    async def run(self) -> FetchResult:
        try:
            return await self._follow()
        except FetchRefused as exc:
            return self._failed(str(exc))
        except _TimedOut as exc:
            return self._failed(self._timeout_message(exc.kind))
        except aiohttp.ClientError as exc:  # before TimeoutError: aiohttp's timeouts are both
            return self._failed(self._client_error_message(exc))
        except TimeoutError:
            return self._failed(self._timeout_message(None))
        except (OSError, ValueError, UnicodeError) as exc:
            return self._failed(f"request failed: {_reason(exc)}")

    def _failed(self, error: str, status: int = 0) -> FetchResult:
        return FetchResult(url=self.url, final_url=self.current, status=status, error=error)

    async def _follow(self) -> FetchResult:
        visited: set[str] = set()
        limit = self.fetcher.config.max_redirects
        redirects = 0
        while True:
            target = _parse_url(self.current)
            if self.origin_host is None:
                self.origin_host = target.raw_host
            result, location = await self._request(target)
            if location is None:
                return result
            visited.add(str(target))
            next_url = str(target.join(URL(location)))
            redirects += 1
            if next_url in visited:
                raise FetchRefused(f"redirect loop at {next_url}")
            if redirects > limit:
                raise FetchRefused(f"too many redirects (more than {limit})")
            self.current = next_url

    def _private_ok(self, host: str) -> bool:
        if host == self.origin_host:
            return self.allow_private
        return self.allow_private_elsewhere

    async def _request(self, target: URL) -> tuple[FetchResult, str | None]:
        host, port = target.raw_host or "", target.port or 0
        private_ok = self._private_ok(host)
        if not private_ok:
            await check_public_host(host, port)
        await self.fetcher.wait_turn(host, port)
        async with self.fetcher._slots:  # waiting for a slot is not the outlet's time either
            session = self.fetcher._open()
            started = time.monotonic()
            token = _allow_private.set(private_ok)  # read by _GuardedResolver at connect time
            watch = self.fetcher.watchdog.watch(
                started, max(self.budget, 0.001), self.fetcher.config.read_timeout
            )
            try:
                async with session.get(
                    target, headers=self.headers, allow_redirects=False
                ) as response:
                    answer = await self._response(response, watch)
            except asyncio.CancelledError:
                if watch.expired is None or watch.task.uncancel() > 0:
                    raise  # not the watchdog's doing: shutdown, or the caller gave up
                raise _TimedOut(watch.expired) from None
            finally:
                self.fetcher.watchdog.forget(watch)
                _allow_private.reset(token)
                self.budget -= time.monotonic() - started
        if watch.expired is not None:  # done although cancelled: aiohttp swallowed it
            watch.task.uncancel()
        return answer

    async def _response(
        self, response: aiohttp.ClientResponse, watch: _Watch
    ) -> tuple[FetchResult, str | None]:
        if response.status in REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if location:
                response.close()
                return self._result(response, b""), location
        body = b"" if response.status == 304 else await self._read(response, watch)
        return self._result(response, body), None

    async def _read(self, response: aiohttp.ClientResponse, watch: _Watch) -> bytes:
        declared = response.content_length
        if declared is not None and declared > self.max_bytes:
            response.close()
            raise FetchRefused(_too_big(self.max_bytes, declared))
        chunks: list[bytes] = []
        size = 0
        watch.progressed()  # the headers came
        async for chunk in response.content.iter_any():  # as it arrives: every byte is progress
            watch.progressed()
            size += len(chunk)
            if size > self.max_bytes:
                response.close()
                raise FetchRefused(_too_big(self.max_bytes))
            chunks.append(chunk)
        return b"".join(chunks)

    def _result(self, response: aiohttp.ClientResponse, body: bytes) -> FetchResult:
        headers = response.headers  # an immutable view; outlives the connection
        retry_after = headers.get("Retry-After")
        # uncapped: the scheduler caps it at max(BACKOFF_MAX_S, interval) (`poll_backoff_delay`)
        return FetchResult(
            url=self.url,
            final_url=str(response.url),
            status=response.status,
            body=body,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            headers=headers,
            retry_after_s=parse_retry_after(retry_after, cap=math.inf) if retry_after else None,
        )

    def _timeout_message(self, kind: str | None) -> str:
        config = self.fetcher.config
        if kind == "connect":
            return f"connect timed out after {config.connect_timeout:g} s"
        if kind == "read":
            return f"read timed out: no data for {config.read_timeout:g} s"
        return f"timed out after {config.total_timeout:g} s"

    def _client_error_message(self, exc: aiohttp.ClientError) -> str:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return self._timeout_message("connect")
        if isinstance(exc, aiohttp.SocketTimeoutError):
            return self._timeout_message("read")
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return f"DNS lookup failed for {exc.host}: {_reason(exc.os_error)}"
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return f"TLS certificate error for {exc.host}: {exc.certificate_error}"
        if isinstance(exc, aiohttp.ClientConnectorError):
            return f"cannot connect to {exc.host}:{exc.port}: {_reason(exc.os_error)}"
        if isinstance(exc, aiohttp.ClientPayloadError):
            return f"broken response body: {exc}"
        if isinstance(exc, aiohttp.InvalidURL):
            return f"invalid URL: {exc}"
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return "server disconnected before answering"
        return f"HTTP error: {exc or type(exc).__name__}"


@functools.lru_cache(maxsize=defaults.FETCH_PARSED_URLS)
def _parse_url(url: str) -> URL:
    """`url` as a yarl URL (cached: feed URLs are fetched again and again), or `FetchRefused`."""
    try:
        target = URL(url)
    except (ValueError, TypeError) as exc:
        raise FetchRefused(f"invalid URL {url!r}: {exc}") from None
    if target.scheme not in ("http", "https") or not target.raw_host:
        raise FetchRefused(f"unsupported URL {url!r}: only http(s) URLs are fetched")
    return target


def _too_big(limit: int, declared: int | None = None) -> str:
    message = f"body exceeds {limit / defaults.MB:.1f} MB limit"
    return f"{message} (Content-Length {declared})" if declared is not None else message


def _reason(exc: BaseException | Any) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
