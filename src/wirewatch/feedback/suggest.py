"""`wirewatch suggest`: the YAML patch the judgements imply, for teams that keep their
watches in git. Per watch: the titles of articles judged relevant that it missed become
examples, those of articles judged not relevant that it matched become exclude phrases, and
a threshold is proposed when the judged articles' recorded scores say another one would
have decided more of them as the team did (for watches decided by similarity only)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from wirewatch.store import Store

TITLE_MAX_CHARS = 200


@dataclass(frozen=True)
class Judged:
    title: str
    relevant: bool
    matched: bool
    score: float | None  # the recorded similarity score (None: not recorded or a detector's)


def suggest_patch(store: Store, watches: Sequence[Any]) -> str:
    """The patch as YAML, with a comment per watch saying what it rests on."""
    lines = ["# wirewatch suggest: what the team's judgements imply; review, then merge by hand"]
    patches = []
    for watch in watches:
        judged = _judged(store, watch)
        if not judged:
            continue
        patch, comment = _patch(watch, judged)
        lines.append(f"# {watch.name}: {comment}")
        if len(patch) > 1:
            patches.append(patch)
    if not patches:
        lines.append("# nothing to change" if len(lines) > 1 else "# no judgements yet")
        return "\n".join(lines) + "\n"
    body = yaml.safe_dump({"watches": patches}, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body


def _judged(store: Store, watch: Any) -> list[Judged]:
    judged = []
    for judgement in store.feedback.list(watch=watch.name):
        article = store.articles.get(judgement.article_id)
        if article is None:
            continue
        row = next(
            (m for m in store.articles.matches_of(article.id) if m["watch"] == watch.name), None
        )
        similarity = row is not None and abs(row["threshold"] - watch.threshold) < 1e-9
        judged.append(
            Judged(
                title=" ".join(article.title.split())[:TITLE_MAX_CHARS],
                relevant=judgement.relevant,
                matched=bool(row and row["matched"]),
                score=float(row["score"]) if row is not None and similarity else None,
            )
        )
    return judged


def _patch(watch: Any, judged: list[Judged]) -> tuple[dict[str, Any], str]:
    missed = [j.title for j in judged if j.relevant and not j.matched]
    false_alarms = [j.title for j in judged if not j.relevant and j.matched]
    patch: dict[str, Any] = {"name": watch.name}
    if missed:
        patch["examples"] = _merged(watch.examples, missed)
    if false_alarms:
        patch["exclude"] = _merged(watch.exclude, false_alarms)
    threshold = best_threshold(judged, watch.threshold)
    if threshold is not None:
        patch["threshold"] = threshold
    relevant = sum(j.relevant for j in judged)
    comment = (
        f"{len(judged)} judgements ({relevant} relevant, {len(judged) - relevant} not): "
        f"{len(missed)} missed, {len(false_alarms)} false alarms"
    )
    return patch, comment


def _merged(existing: Sequence[str], new: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*existing, *new]))


def best_threshold(judged: Sequence[Judged], current: float) -> float | None:
    """The threshold that decides the most judged articles as judged, when it beats
    ``current`` (ties: the one closest to it); None when none does or scores are unknown."""
    scored = [(j.score, j.relevant) for j in judged if j.score is not None]
    if not scored or len({r for _, r in scored}) < 2:
        return None

    def errors(threshold: float) -> int:
        return sum((score >= threshold) != relevant for score, relevant in scored)

    scores = sorted({s for s, _ in scored})
    candidates = [round((a + b) / 2, 3) for a, b in itertools.pairwise(scores)]
    best = min(candidates, key=lambda t: (errors(t), abs(t - current)), default=None)
    if best is None or errors(best) >= errors(current):
        return None
    return best
