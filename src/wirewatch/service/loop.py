"""The service's event loop: uvloop where it is installed (`crawler.event_loop`), else
asyncio's own.

uvloop runs the same coroutines on libuv; the crawler, which is mostly small HTTP
exchanges, spends less CPU per poll on it (benchmarks/crawl.py). `event_loop: asyncio`
turns it off; a missing uvloop (a platform without wheels) falls back to asyncio's loop,
with a warning.

The garbage collector runs its young collection every `GC_YOUNG_THRESHOLD` allocations of
container objects, not Python's default 700: the crawler's polls in flight keep thousands
of such objects alive at any moment (requests, responses, futures), and every young
collection walked all of them to find no garbage (the crawl makes no reference cycles).
At 700 that was about a sixth of the crawler's CPU on a 90 %-304 mix (benchmarks/crawl.py
prints the collector's share); cycles made elsewhere are still collected, a little later.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Literal, TypeVar

from wirewatch import defaults

log = logging.getLogger(__name__)
T = TypeVar("T")
EventLoopName = Literal["uvloop", "asyncio"]


def loop_factory(name: EventLoopName) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """A factory for the loop `name` (None: asyncio's default)."""
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        log.warning("crawler.event_loop is uvloop, which is not installed: using asyncio's loop")
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], name: EventLoopName) -> T:
    """`asyncio.run(main)` on the event loop `name`, with the service's collector settings."""
    with service_collector(), asyncio.Runner(loop_factory=loop_factory(name)) as runner:
        return runner.run(main)


@contextlib.contextmanager
def service_collector(young: int = defaults.GC_YOUNG_THRESHOLD) -> Iterator[None]:
    """A young collection every `young` allocations for the block (the older generations'
    thresholds unchanged); the previous thresholds afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def loop_name() -> str:
    """ "uvloop" or "asyncio": the loop running now (in the log line that says the service runs)."""
    return (
        "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
    )
