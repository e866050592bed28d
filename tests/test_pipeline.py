"""Articles arriving while a batch is matched go together into the next one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from wirewatch.pipeline import Batcher


@dataclass(frozen=True)
class Item:
    id: str


@dataclass(frozen=True)
class Outcome:
    article: Item


class SlowPipeline:
    """Records each batch; the first one waits until the test lets it go."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()

    async def process(self, items: list[Item]) -> list[Outcome]:
        self.batches.append([i.id for i in items])
        if len(self.batches) == 1:
            await self.release.wait()
        return [Outcome(i) for i in items]


async def test_polls_that_arrive_during_a_batch_share_the_next_one():
    pipeline = SlowPipeline()
    batcher = Batcher(pipeline.process)
    first = asyncio.create_task(batcher.submit([Item("a1")]))
    await asyncio.sleep(0)  # the first batch is running
    second = asyncio.create_task(batcher.submit([Item("b1"), Item("b2")]))
    third = asyncio.create_task(batcher.submit([Item("c1"), Item("b2")]))
    await asyncio.sleep(0)
    pipeline.release.set()
    results = await asyncio.gather(first, second, third)

    assert pipeline.batches == [["a1"], ["b1", "b2", "c1"]]  # one call for both, b2 once
    assert [[o.article.id for o in r] for r in results] == [["a1"], ["b1", "b2"], ["c1", "b2"]]
    assert batcher.batches == 2


async def test_an_idle_batcher_processes_at_once():
    pipeline = SlowPipeline()
    pipeline.release.set()
    batcher = Batcher(pipeline.process)
    assert [o.article.id for o in await batcher.submit([Item("x")])] == ["x"]


async def test_a_failing_batch_fails_every_poll_in_it_and_the_next_still_runs():
    calls: list[list[str]] = []

    async def process(items: list[Item]) -> list[Outcome]:
        calls.append([i.id for i in items])
        if len(calls) == 1:
            await asyncio.sleep(0.01)
            raise RuntimeError("database is locked")
        return [Outcome(i) for i in items]

    batcher = Batcher(process)
    first = asyncio.create_task(batcher.submit([Item("a")]))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="locked"):
        await first
    assert [o.article.id for o in await batcher.submit([Item("b")])] == ["b"]


async def test_a_cancelled_poll_leaves_the_others_for_the_next_batch():
    release_first = asyncio.Event()
    second_started = asyncio.Event()
    calls: list[list[str]] = []

    async def process(items: list[Item]) -> list[Outcome]:
        calls.append([i.id for i in items])
        if len(calls) == 1:
            await release_first.wait()
        elif len(calls) == 2:
            second_started.set()
            await asyncio.sleep(3600)  # cancelled before it ends
        return [Outcome(i) for i in items]

    batcher = Batcher(process)
    first = asyncio.create_task(batcher.submit([Item("x")]))
    await asyncio.sleep(0)
    carrier = asyncio.create_task(batcher.submit([Item("a")]))
    other = asyncio.create_task(batcher.submit([Item("b")]))
    await asyncio.sleep(0)
    release_first.set()
    await first
    await second_started.wait()  # "a" runs the batch of "a" and "b"
    carrier.cancel()
    assert [o.article.id for o in await other] == ["b"]
    assert calls == [["x"], ["a", "b"], ["b"]]
    with pytest.raises(asyncio.CancelledError):
        await carrier
