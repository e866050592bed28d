"""Fixtures of the monitor tests: an in-memory store and a fetcher that may reach the local
outlets (127.0.0.1) with no pause between requests."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.fixtures.outlets import crawler_settings
from wirewatch.monitor.fetch import Fetcher
from wirewatch.store import Store


@pytest.fixture
def store() -> Store:
    return Store(":memory:")


@pytest_asyncio.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(crawler_settings(per_host_delay=0, allow_private_addresses=True)) as f:
        yield f
