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
import inspect
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
#
# Who may reach a loopback, private or link-local address: everyone when the config says
# `crawler.allow_private_addresses`; otherwise only a URL the operator wrote with such an
# IP literal (`http://127.0.0.1:8080/feed`), that very address and nothing else. A host
# *name* is never trusted for what it resolves to: an outlet's DNS may be re-pointed.
# The check is on the address connected to: the guarded resolver is the only source of
# addresses for names (no DNS cache), a literal is checked before its request, and the
# socket factory checks every socket's peer address once more before it connects.

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits


@functools.lru_cache(maxsize=defaults.FETCH_PARSED_ADDRESSES)  # asked once or twice per request
def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, reserved, multicast and unspecified addresses,
    and for IPv6 addresses that carry such an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64
    64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the IPv4 address itself, written as IPv6
            return _is_public_ip(ip.ipv4_mapped)
        if ip in _NAT64:  # translated to the IPv4 address it carries
            return _is_public_ip(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
        carried = [ip.sixtofour, *(ip.teredo or ())]  # tunnelled to the IPv4 address
        if not all(_is_public_ip(v4) for v4 in carried if v4 is not None):
            return False
    return _is_public_ip(ip)


def _is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
    )


@functools.lru_cache(maxsize=defaults.FETCH_PARSED_ADDRESSES)
def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class _AddressPolicy:
    """Which addresses one request may connect to (read at connect time, per request)."""

    allow_private: bool = False  # crawler.allow_private_addresses
    trusted: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None  # the operator's IP

    def permits(self, address: str) -> bool:
        if self.allow_private or is_public_address(address):
            return True
        return self.trusted is not None and _ip_literal(address) == self.trusted


_STRICT = _AddressPolicy()
_OPEN = _AddressPolicy(allow_private=True)
_policy: contextvars.ContextVar[_AddressPolicy] = contextvars.ContextVar(
    "wirewatch_address_policy", default=_STRICT
)


class _GuardedResolver(AbstractResolver):
    """Resolves through `inner` and keeps only the addresses the request may connect to.

    aiohttp connects to exactly these (the connector keeps no DNS cache), so a DNS answer
    that changes between two requests (rebinding) is checked again each time.
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        policy = _policy.get()
        allowed = [r for r in results if policy.permits(r["host"])]
        if results and not allowed:  # not an OSError: aiohttp passes it on unchanged
            raise FetchRefused(_resolves_privately(host, [r["host"] for r in results]))
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class _PeerRefused(OSError):
    """A socket's peer address is not one the request may connect to."""


def _guarded_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """aiohttp's socket factory: the last check, on the address about to be connected to."""
    family, type_, proto, _, sockaddr = addr_info
    address = str(sockaddr[0])
    if not _policy.get().permits(address):
        raise _PeerRefused(f"refused: {address} is a private address")
    return socket.socket(family=family, type=type_, proto=proto)


# aiohttp >= 3.12 takes a socket factory; before that the resolver and the literal check hold
_CONNECTOR_GUARD: dict[str, Any] = (
    {"socket_factory": _guarded_socket}
    if "socket_factory" in inspect.signature(aiohttp.TCPConnector).parameters
    else {}
)


def _resolves_privately(host: str, addresses: list[str]) -> str:
    shown = list(dict.fromkeys(addresses))
    where = (
        f"{shown[0]}, a private address"
        if len(shown) == 1
        else f"private addresses only ({', '.join(shown[:3])})"
    )
    return f"refused: {host} resolves to {where} (see crawler.allow_private_addresses)"


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

    def __init__(
        self, config: CrawlerSettings, *, resolver: AbstractResolver | None = None
    ) -> None:
        """`resolver`: where host names are looked up (aiohttp's default: the system's);
        tests pass one that maps names onto loopback. Its answers still pass the guard."""
        self.config = config
        self.allow_private_addresses = bool(
            getattr(config, "allow_private_addresses", defaults.ALLOW_PRIVATE_ADDRESSES)
        )
        self._resolver = resolver
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
                resolver=_GuardedResolver(self._resolver),
                use_dns_cache=False,  # every new connection goes through the guard
                **_CONNECTOR_GUARD,
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

        `allow_private=True` says the operator wrote `url` (a feed URL): when its host is
        an IP literal, that address may be on loopback or a private network, and so may
        redirects that stay on it. A host *name* is trusted for no private address, nor
        is any other host a redirect leads to, unless the crawler config says
        `allow_private_addresses`: neither an outlet's DNS nor a redirect can point the
        crawler at 127.0.0.1, 169.254.169.254 or the intranet. The check is on the
        address each request connects to, so DNS rebinding does not get round it.
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
        self.origin_host: str | None = None
        self.trusted: _AddressPolicy = _STRICT  # the origin's, when the operator wrote its IP
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
                literal = _ip_literal(target.raw_host or "")
                if self.allow_private and literal is not None:
                    self.trusted = _AddressPolicy(trusted=literal)
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

    def _policy(self, host: str) -> _AddressPolicy:
        if self.fetcher.allow_private_addresses:
            return _OPEN
        return self.trusted if host == self.origin_host else _STRICT

    async def _request(self, target: URL) -> tuple[FetchResult, str | None]:
        host, port = target.raw_host or "", target.port or 0
        policy = self._policy(host)
        if _ip_literal(host) is not None and not policy.permits(host):  # names: at connect time
            raise FetchRefused(f"refused: {host} is a private address")
        await self.fetcher.wait_turn(host, port)
        async with self.fetcher._slots:  # waiting for a slot is not the outlet's time either
            session = self.fetcher._open()
            started = time.monotonic()
            token = _policy.set(policy)  # read at connect time: _GuardedResolver, _guarded_socket
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
                _policy.reset(token)
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
            if isinstance(exc.os_error, _PeerRefused):
                return str(exc.os_error)
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
