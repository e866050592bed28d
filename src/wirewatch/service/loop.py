"""The service's event loop: uvloop where it is installed (`crawler.event_loop`), else
asyncio's own.

uvloop runs the same coroutines on libuv; the crawler, which is mostly small HTTP
exchanges, spends less CPU per poll on it (benchmarks/crawl.py). `event_loop: asyncio`
turns it off; a missing uvloop (a platform without wheels) falls back to asyncio's loop,
with a warning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

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
    """`asyncio.run(main)` on the event loop `name`."""
    with asyncio.Runner(loop_factory=loop_factory(name)) as runner:
        return runner.run(main)


def loop_name() -> str:
    """ "uvloop" or "asyncio": the loop running now (in the log line that says the service runs)."""
    return (
        "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
    )
