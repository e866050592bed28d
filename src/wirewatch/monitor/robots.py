"""robots.txt for article pages: fetched once per site through the Fetcher, cached.

Policy (after RFC 9309, with one deliberate exception):
- 2xx: the rules apply to our user agent's product token;
- 4xx (404, 401, 403, ...): no rules, everything allowed (RFC 9309 "unavailable");
- 5xx, timeouts and other network errors: everything allowed, and robots.txt is
  asked for again after `ROBOTS_ERROR_CACHE_S`. RFC 9309 says to assume a full
  disallow here. We only ever fetch pages the outlet itself links from its feed,
  once each and rate-limited per host, and a site's flaky robots.txt must not
  silence alerts; the feed summary would be used instead, so erring towards
  allow costs the site one request per new article.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass

from yarl import URL

from wirewatch import defaults
from wirewatch.monitor.fetch import Fetcher


@dataclass
class _Rules:
    parser: urllib.robotparser.RobotFileParser | None  # None: everything allowed
    expires_at: float


class RobotsCache:
    """Answers "may we fetch this page?" per the site's robots.txt."""

    def __init__(
        self,
        fetcher: Fetcher,
        user_agent: str,
        *,
        ttl_s: float = defaults.ROBOTS_CACHE_S,
        error_ttl_s: float = defaults.ROBOTS_ERROR_CACHE_S,
        max_bytes: int = defaults.ROBOTS_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.ttl_s = ttl_s
        self.error_ttl_s = error_ttl_s
        self.max_bytes = max_bytes
        self.clock = clock
        self._rules: dict[str, _Rules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str, *, allow_private: bool) -> bool:
        """True when robots.txt of `url`'s site lets our user agent fetch it."""
        try:
            origin = str(URL(url).origin())
        except ValueError:
            return False
        rules = await self._rules_for(origin, allow_private)
        return rules.parser is None or rules.parser.can_fetch(self.user_agent, url)

    async def _rules_for(self, origin: str, allow_private: bool) -> _Rules:
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one robots.txt request per site at a time
            rules = self._rules.get(origin)
            if rules is None or rules.expires_at <= self.clock():
                rules = await self._fetch(origin, allow_private)
                self._remember(origin, rules)
        return rules

    async def _fetch(self, origin: str, allow_private: bool) -> _Rules:
        result = await self.fetcher.get(
            f"{origin}/robots.txt",
            max_bytes=self.max_bytes,
            allow_private=allow_private,
            accept="text/plain",
        )
        now = self.clock()
        if result.error is not None or result.status >= 500 or result.status == 429:
            return _Rules(None, now + self.error_ttl_s)
        if not 200 <= result.status < 300:
            return _Rules(None, now + self.ttl_s)
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        parser.modified()  # can_fetch answers False until this is set
        return _Rules(parser, now + self.ttl_s)

    def _remember(self, origin: str, rules: _Rules) -> None:
        self._rules[origin] = rules
        if len(self._rules) > defaults.ROBOTS_MAX_CACHED_SITES:
            now = self.clock()
            for key, cached in list(self._rules.items()):
                if cached.expires_at <= now:
                    del self._rules[key]
                    self._locks.pop(key, None)
