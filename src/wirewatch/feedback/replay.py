"""Judgements replayed in a backtest (`backtest --feedback JUDGEMENTS.jsonl`).

Each line, ``{"id": "a-17", "watch": "balochistan-attacks", "relevant": false}`` (optionally
``"note"`` and ``"who"``), is applied as soon as the article it names has been processed, in
published order, through the same path as a judgement in the running service: stored, then
the matcher's examples refreshed, so later articles are decided with it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wirewatch.feedback.api import record_judgement
from wirewatch.feedback.learner import FeedbackLearner
from wirewatch.store import Store


class JudgementsError(ValueError):
    pass


@dataclass(frozen=True)
class PlannedJudgement:
    article_id: str
    watch: str
    relevant: bool
    who: str = "backtest"
    note: str | None = None


def read_judgements(
    path: Path, article_ids: Collection[str], watches: Collection[str]
) -> dict[str, list[PlannedJudgement]]:
    """The file's judgements by article id; every line checked (FILE:LINE: message)."""
    plan: dict[str, list[PlannedJudgement]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                judgement = _parse(json.loads(line), article_ids, watches)
            except (ValueError, TypeError) as exc:
                raise JudgementsError(f"{path}:{number}: {exc}") from None
            plan.setdefault(judgement.article_id, []).append(judgement)
    return plan


def _parse(line: Any, article_ids: Collection[str], watches: Collection[str]) -> PlannedJudgement:
    if not isinstance(line, dict):
        raise ValueError('expected an object like {"id": …, "watch": …, "relevant": true}')
    for key in ("id", "watch", "relevant"):
        if key not in line:
            raise ValueError(f"missing field {key!r}")
    if not isinstance(line["relevant"], bool):
        raise ValueError("'relevant' must be true or false")
    article_id, watch = str(line["id"]), str(line["watch"])
    if article_id not in article_ids:
        raise ValueError(f"article {article_id!r} is not in the corpus")
    if watch not in watches:
        raise ValueError(f"unknown watch {watch!r}")
    note = line.get("note")
    return PlannedJudgement(
        article_id, watch, line["relevant"], str(line.get("who") or "backtest"),
        None if note is None else str(note),
    )  # fmt: skip


class ReplayFeedback:
    """Applies the planned judgements of an article right after it is processed."""

    def __init__(
        self,
        store: Store,
        plan: dict[str, list[PlannedJudgement]],
        watches: Collection[str],
        learner: FeedbackLearner | None = None,
    ) -> None:
        self.store = store
        self.plan = plan
        self.watches = watches
        self.learner = learner or FeedbackLearner(store)
        self.applied = 0

    def judges(self, article_id: str) -> bool:
        return article_id in self.plan

    async def after(self, article_id: str, matcher: Any) -> None:
        planned = self.plan.get(article_id, [])
        for judgement in planned:
            record_judgement(
                self.store,
                self.watches,
                article=judgement.article_id,
                watch=judgement.watch,
                relevant=judgement.relevant,
                who=judgement.who,
                note=judgement.note,
                source="backtest",
            )
            self.applied += 1
        if planned:
            await self.learner.refresh(matcher)
