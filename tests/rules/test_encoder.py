"""Encoder with the real bundled model: normalised vectors, off-loop encoding."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from wirewatch.rules.encoder import Encoder, bundled_model_path, is_bundled


@pytest.fixture(scope="module")
def encoder():
    enc = Encoder()
    enc.load()
    yield enc
    enc.close()


def test_bundled_names():
    assert is_bundled("all-MiniLM-L6-v2") and is_bundled("sentence-transformers/all-MiniLM-L6-v2")
    assert not is_bundled("/models/other")
    assert bundled_model_path().endswith("model")


def test_encode_normalised_float32(encoder):
    vectors = encoder.encode(["Mobile internet suspended in Quetta", "Cricket final in Lahore"])
    assert vectors.shape == (2, encoder.dim) and encoder.dim == 384
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_similar_texts_are_closer(encoder):
    a, b, c = encoder.encode(
        [
            "Authorities cut mobile internet in the province",
            "Mobile data services were suspended by the government",
            "The team won the cricket match by three wickets",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


async def test_encode_async_matches_sync_and_runs_in_worker(encoder, monkeypatch):
    threads: list[str] = []
    original = encoder.encode

    def spy(texts):
        threads.append(threading.current_thread().name)
        return original(texts)

    monkeypatch.setattr(encoder, "encode", spy)
    vectors = await encoder.encode_async(["internet shutdown"])
    assert np.allclose(vectors, original(["internet shutdown"]), atol=1e-5)
    assert threads and threads[0].startswith("encoder")
    assert threads[0] != threading.current_thread().name


async def test_encode_async_does_not_block_the_loop(encoder):
    texts = [
        f"Passage {i} about simultaneous attacks on military posts in several towns of the "
        f"province, and what officials said afterwards about the security situation."
        for i in range(256)
    ]
    ticks = 0
    done = asyncio.Event()

    async def ticker():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    loop = asyncio.get_running_loop()
    start = loop.time()
    await encoder.encode_async(texts)
    elapsed = loop.time() - start
    done.set()
    await task
    assert elapsed > 0.2  # the batch took a while ...
    assert ticks >= elapsed / 0.01 * 0.3  # ... and the loop kept ticking meanwhile


async def test_close_then_reuse():
    enc = Encoder()
    await enc.encode_async(["a"])
    enc.close()
    enc.close()
    assert (await enc.encode_async(["b"])).shape == (1, 384)
    enc.close()
