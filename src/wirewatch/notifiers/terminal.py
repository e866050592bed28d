"""Alerts printed to a terminal (`wirewatch demo`).

    [balochistan-attacks] NEW STORY s-3: Militants strike army camps in Quetta and Gwadar
      places: Quetta, Gwadar · regions: Balochistan · score 0.71 · 2 sources (dawn, geo)
      - dawn  0.71  24 Nov 2026 07:05 UTC  Militants strike army camps ...  https://...
      > Gunmen attacked two army camps in Quetta and Gwadar within minutes of each other.

Everything from an article is put on one line and stripped of control characters, so a
headline cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from wirewatch.models import Alert, DeliveryResult, Source
from wirewatch.notifiers.base import Notifier
from wirewatch.notifiers.formatting import (
    excerpt,
    format_time,
    one_line,
    short_title,
    source_summary,
)
from wirewatch.util import plural, terminal_safe

TITLE_MAX_CHARS = 200


def clean(text: str) -> str:
    return terminal_safe(one_line(text))


def source_line(source: Source) -> str:
    where = f"  {clean(source.url)}" if source.url else ""
    return (
        f"  - {clean(source.outlet)}  {source.score:.2f}  {format_time(source.published)}  "
        f"{clean(short_title(source.title, TITLE_MAX_CHARS))}{where}"
    )


def render(alert: Alert) -> str:
    """The lines printed for one alert."""
    story = alert.story
    total = len({s.article_id for s in [*story.sources, *alert.articles]})
    label = "UPDATE" if alert.kind == "story_update" else "NEW STORY"
    title = clean(short_title(story.title, TITLE_MAX_CHARS))
    score = max([story.best_score, *(a.score for a in alert.articles)])
    outlets = clean(source_summary(a.outlet for a in alert.articles))
    if alert.kind == "story_update":
        count = f"+{plural(len(alert.articles), 'new source')} ({outlets}), {total} in all"
    else:
        count = f"{plural(total, 'source')} ({outlets})"
    summary = [
        f"places: {clean(', '.join(story.places)) or '-'}",
        f"regions: {clean(', '.join(story.regions)) or '-'}",
        f"score {score:.2f}",
        count,
    ]
    lines = [
        f"[{clean(alert.watch)}] {label} {clean(story.id)}: {title}",
        "  " + " · ".join(summary),
        *(source_line(s) for s in alert.articles),
    ]
    best = max(alert.articles, key=lambda a: a.score, default=None)
    if best is not None and best.evidence.strip():
        lines.append(f"  > {clean(excerpt(best.evidence))}")
    return "\n".join(lines) + "\n"


class TerminalNotifier(Notifier):
    """Writes each alert to `stream` (standard output by default)."""

    def __init__(self, config: Any, stream: TextIO | None = None) -> None:
        self.name = config.name
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        # Looked up at each send, so that a replaced sys.stdout (capsys, redirection) is used.
        return self._stream if self._stream is not None else sys.stdout

    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult:
        try:
            self.stream.write(render(alert))
            self.stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe or stream
            return DeliveryResult.failure(f"could not write to the terminal: {exc}", retryable=True)
        return DeliveryResult.success(remote_ref=thread_ref or alert.story.id)
