"""The service's event loop: uvloop by default, asyncio's own on request."""

from __future__ import annotations

import asyncio
import gc

import pytest
import uvloop

from tests.fixtures.configs import config_yaml
from wirewatch import defaults
from wirewatch.config.loader import load_config_text
from wirewatch.service.loop import loop_name, run


async def running_loop() -> tuple[type, str]:
    return type(asyncio.get_running_loop()), loop_name()


def test_uvloop_runs_the_service_by_default() -> None:
    config = load_config_text(config_yaml())
    assert config.crawler.event_loop == "uvloop"
    kind, name = run(running_loop(), config.crawler.event_loop)
    assert issubclass(kind, uvloop.Loop) and name == "uvloop"


def test_event_loop_asyncio_turns_uvloop_off() -> None:
    config = load_config_text(config_yaml(crawler={"event_loop": "asyncio"}))
    kind, name = run(running_loop(), config.crawler.event_loop)
    assert not issubclass(kind, uvloop.Loop) and name == "asyncio"


def test_an_unknown_event_loop_is_a_config_error() -> None:
    with pytest.raises(Exception, match="event_loop"):
        load_config_text(config_yaml(crawler={"event_loop": "trio"}))


async def collector_thresholds() -> tuple[int, int, int]:
    return gc.get_threshold()


def test_the_service_runs_with_a_larger_young_generation_then_restores_it() -> None:
    """The crawler's polls in flight make no garbage cycles: a young collection every 700
    allocations walked thousands of live objects for nothing (benchmarks/crawl.py)."""
    before = gc.get_threshold()
    inside = run(collector_thresholds(), "uvloop")
    assert inside == (defaults.GC_YOUNG_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
