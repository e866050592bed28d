"""Judged articles as examples of a watch: the hook the matcher consults.

Every active judgement of a watch is an example: the judged article's lead vector (the same
encoder vector the matcher compares) and whether the team found it relevant. After the
matcher has decided an article, its nearest judged neighbour of that watch may overturn the
decision (`adjust`):

- a match whose lead is at least ``FEEDBACK_NOT_RELEVANT_SIMILARITY`` close to an article
  judged not relevant, and closer to it (by ``FEEDBACK_NEIGHBOUR_MARGIN``) than to any judged
  relevant, is dropped: "a team that marks ten false alarms should not get the eleventh";
- a miss at least ``FEEDBACK_RELEVANT_SIMILARITY`` close to an article judged relevant (and
  closer to it than to any judged not relevant) matches, provided the watch's region gate
  passed and it is no opinion piece: another copy of a missed report is not missed again.

This holds whatever decided the watch (similarity or a learned detector), so it is one small
step after the decision, in one place. An empty set changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from wirewatch import defaults
from wirewatch.models import ArticleEncoding, WatchMatch

OPINION = "opinion piece"


@dataclass(frozen=True)
class Example:
    article_id: str
    relevant: bool
    judgement_id: int
    vector: np.ndarray  # the article's lead vector, L2-normalised


@dataclass(frozen=True)
class WatchExamples:
    """One watch's examples as one matrix, for one product per article."""

    vectors: np.ndarray  # (n, dim)
    relevant: np.ndarray  # (n,) bool
    examples: tuple[Example, ...]

    @classmethod
    def of(cls, examples: Sequence[Example]) -> WatchExamples:
        return cls(
            np.stack([e.vector for e in examples]).astype(np.float32),
            np.array([e.relevant for e in examples], dtype=bool),
            tuple(examples),
        )

    def nearest(self, vector: np.ndarray, relevant: bool) -> tuple[float, Example | None]:
        """The closest example with that label, and its cosine (-1 when there is none)."""
        mask = self.relevant == relevant
        if not mask.any():
            return -1.0, None
        sims = self.vectors[mask] @ vector
        best = int(np.argmax(sims))
        chosen = [e for e, keep in zip(self.examples, mask, strict=True) if keep][best]
        return float(sims[best]), chosen


class FeedbackExamples:
    """Every watch's judged examples; immutable once built (swapped whole on a change)."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[Example]] | None = None,
        *,
        relevant_similarity: float = defaults.FEEDBACK_RELEVANT_SIMILARITY,
        not_relevant_similarity: float = defaults.FEEDBACK_NOT_RELEVANT_SIMILARITY,
        margin: float = defaults.FEEDBACK_NEIGHBOUR_MARGIN,
    ) -> None:
        self.similarity = {True: relevant_similarity, False: not_relevant_similarity}
        self.margin = margin
        self.by_watch = {w: WatchExamples.of(list(e)) for w, e in (examples or {}).items() if e}

    def __len__(self) -> int:
        return sum(len(w.examples) for w in self.by_watch.values())

    def adjust(self, watch: Any, encoding: ArticleEncoding, match: WatchMatch) -> WatchMatch:
        """The matcher's decision, overturned when a judged neighbour says otherwise."""
        examples = self.by_watch.get(match.watch)
        if examples is None or not len(encoding.vectors):
            return match
        vector = np.asarray(encoding.vectors[0], dtype=np.float32)
        wanted, neighbour = examples.nearest(vector, relevant=not match.matched)
        unwanted, _ = examples.nearest(vector, relevant=match.matched)
        needed = self.similarity[not match.matched]
        if neighbour is None or wanted < needed or wanted < unwanted + self.margin:
            return match
        if match.matched:
            return replace(
                match,
                matched=False,
                reason=f"feedback: like {neighbour.article_id}, judged not relevant "
                f"(#{neighbour.judgement_id}, similarity {wanted:.2f}); was: {match.reason}",
            )
        if match.excluded_by == OPINION or (getattr(watch, "regions", None) and not match.regions):
            return match
        return replace(
            match,
            matched=True,
            excluded_by=None,
            reason=f"feedback: like {neighbour.article_id}, judged relevant "
            f"(#{neighbour.judgement_id}, similarity {wanted:.2f}); was: {match.reason}",
        )
