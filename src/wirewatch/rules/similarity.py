"""How close a passage is to a reference text: sentence vectors and token late interaction.

``similarity = (1 - TOKEN_WEIGHT) * cosine + TOKEN_WEIGHT * late_interaction``

- *cosine*: between the two sentence vectors (mean-pooled tokens): what the texts are about.
- *late interaction* (MaxSim, as in ColBERT): each content token of the reference looks for
  its closest token in the passage, and the closeness is averaged over the reference's
  tokens. Every word of "Authorities suspend mobile internet" has to be found, so a passage
  that only shares the subject ("the internet ban was lifted") scores lower than with the
  pooled vector alone.

Both come from the same forward pass of the model (``Encoder.encode_with_tokens``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wirewatch import defaults
from wirewatch.rules.encoder import Encoded
from wirewatch.rules.lexical import MIN_WORD_LENGTH, is_common_word, is_stop_word, stem
from wirewatch.rules.settings import SHIPPED, Rules

_SPECIAL = frozenset({"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>"})


@dataclass
class ReferenceSet:
    """Reference texts of one watch (or its exclude phrases), ready to compare with."""

    texts: list[str]
    vectors: np.ndarray  # (len(texts), dim)
    query_tokens: np.ndarray  # content-token vectors of every text, stacked
    query_starts: np.ndarray  # where each text's tokens start in ``query_tokens``

    @classmethod
    def concat(cls, sets: Sequence[ReferenceSet]) -> ReferenceSet:
        """All texts of ``sets`` in one set, in order: one comparison serves them all."""
        offsets = np.cumsum([0] + [len(s.query_tokens) for s in sets[:-1]])
        return cls(
            [t for s in sets for t in s.texts],
            np.concatenate([s.vectors for s in sets]),
            np.concatenate([s.query_tokens for s in sets]),
            np.concatenate([s.query_starts + o for s, o in zip(sets, offsets, strict=True)]),
        )

    @classmethod
    def from_encoded(cls, texts: list[str], encoded: Encoded) -> ReferenceSet:
        tokens = [
            vectors[_content_positions(strings)]
            for vectors, strings in zip(encoded.tokens, encoded.token_strings, strict=True)
        ]
        starts = np.cumsum([0] + [len(t) for t in tokens[:-1]])
        return cls(list(texts), encoded.vectors, np.concatenate(tokens), starts)


def _content_positions(strings: Sequence[str]) -> list[int]:
    """Token positions that carry meaning: no special tokens, punctuation or stop words.

    A word split into pieces keeps them all ("lift", "##s"). A text of stop words only keeps
    its ordinary tokens, and one with none keeps its first token, so no text is empty.
    """
    ordinary = [
        i for i, s in enumerate(strings) if s not in _SPECIAL and any(c.isalnum() for c in s)
    ]
    content = [i for i in ordinary if strings[i].startswith("##") or not is_stop_word(strings[i])]
    return content or ordinary or [0]


def distinguishing_words(
    phrase: Encoded,
    references: ReferenceSet,
    reference_stems: frozenset[str],
    rules: Rules = SHIPPED,
) -> dict[str, str]:
    """The words of an exclude phrase that the watch's references lack in meaning too, as
    {stem: the word as written}.

    A word counts when its stem is in none of the references and its token vector (in the
    phrase's context) is not close to any of theirs: for an internet-shutdown watch, the
    "lifted" and "restored" of "services restored after the shutdown was lifted" count;
    "internet" and "shutdown" do not. The most frequent English words never count: the "new"
    of "a telecom company launches a new mobile network" is as likely in "a new internet
    blackout".
    """
    words: dict[str, str] = {}
    for word, vector in _words(phrase.token_strings[0], phrase.tokens[0]):
        stemmed = stem(word)
        if len(word) < MIN_WORD_LENGTH or is_stop_word(word):
            continue
        if (rules.common_words and is_common_word(word)) or stemmed in reference_stems:
            continue
        if float((references.query_tokens @ vector).max()) < rules.distinct_word_similarity:
            words.setdefault(stemmed, word)
    return words


def _words(strings: Sequence[str], vectors: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Whole words with the mean of their pieces' vectors ("lift" + "##s" -> "lifts")."""
    words: list[tuple[str, list[np.ndarray]]] = []
    for piece, vector in zip(strings, vectors, strict=True):
        if piece in _SPECIAL:
            continue
        if piece.startswith("##") and words:
            words[-1] = (words[-1][0] + piece[2:], [*words[-1][1], vector])
        else:
            words.append((piece, [vector]))
    out = []
    for word, pieces in words:
        if any(c.isalnum() for c in word):
            mean = np.mean(pieces, axis=0)
            out.append((word, mean / max(float(np.linalg.norm(mean)), 1e-12)))
    return out


def similarities(
    references: ReferenceSet,
    passage_vectors: np.ndarray,
    passage_tokens: Sequence[np.ndarray],
    token_weight: float = defaults.TOKEN_WEIGHT,
) -> np.ndarray:
    """(passages, references) similarity of every passage to every reference."""
    cosine = passage_vectors @ references.vectors.T
    if token_weight == 0 or not len(passage_tokens):
        return cosine
    return (1 - token_weight) * cosine + token_weight * late_interaction(references, passage_tokens)


def late_interaction(references: ReferenceSet, passage_tokens: Sequence[np.ndarray]) -> np.ndarray:
    """(passages, references) MaxSim: mean over reference tokens of the best passage token."""
    tokens = np.concatenate(passage_tokens)
    passage_starts = np.cumsum([0] + [len(t) for t in passage_tokens[:-1]])
    scores = references.query_tokens @ tokens.T  # (reference tokens, passage tokens)
    best = np.maximum.reduceat(scores, passage_starts, axis=1)  # (reference tokens, passages)
    counts = np.diff(np.append(references.query_starts, len(references.query_tokens)))
    means = np.add.reduceat(best, references.query_starts, axis=0) / counts[:, None]
    return means.T
