"""Who gets what, and when: an alert per notifier for each story decision, or why not.

A new story waits `group_wait` so that near-simultaneous reports make one alert; an
update waits until `update_interval` after the story's last alert; an article that
arrives while an alert of its story is still waiting joins that alert. A watch without
notifiers, or a silenced watch or story, gets no alert: the decision says why. The
alerts are written to the outbox in the same transaction as the story.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from wirewatch.alerts.silences import describe, silence_covering
from wirewatch.models import Article
from wirewatch.store import Store
from wirewatch.stories.assigner import StoryDecision


class AlertingWatch(Protocol):
    name: str
    notify: list[str]
    group_wait: float
    update_interval: float


def delivery_id(story_id: str, notifier: str, *parts: str) -> str:
    digest = hashlib.sha256("\0".join([story_id, notifier, *parts]).encode()).hexdigest()
    return f"d-{digest[:20]}"


class AlertPolicy:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock  # when alerts are due: grouping wait and update interval

    def queue(self, watch: AlertingWatch, article: Article, decision: StoryDecision) -> None:
        """Queue an alert per notifier, or say why not (no notifiers, silenced, grouped)."""
        kind = "new_story" if decision.new_story else "story_update"
        reason = "new story" if decision.new_story else f"new source ({decision.joined_by})"
        trail = {"watch": watch.name, "story_id": decision.story_id, "article_id": article.id}
        if not watch.notify:
            self.store.decisions.record(
                decision="skip", reason=f"{reason}; watch has no notifiers", **trail
            )
            return
        silence = silence_covering(self.store, watch.name, decision.story_id, self.clock())
        if silence is not None:
            self.store.decisions.record(
                decision="silenced", reason=f"{reason}; {describe(silence)}", **trail
            )
            return
        for notifier in watch.notify:
            self._queue_one(watch, notifier, kind, reason, article, decision, trail)

    def _queue_one(
        self,
        watch: AlertingWatch,
        notifier: str,
        kind: str,
        reason: str,
        article: Article,
        decision: StoryDecision,
        trail: dict[str, str],
    ) -> None:
        now = self.clock()
        waiting = self.store.outbox.waiting_alert(decision.story_id, notifier, now)
        if waiting is not None:  # still in its grouping wait or update interval: join it
            self.store.outbox.add_to_alert(waiting.delivery_id, [article.id])
            self.store.decisions.record(
                decision="grouped",
                reason=f"{reason}; joins queued {waiting.kind} {waiting.delivery_id}",
                notifier=notifier,
                **trail,
            )
            return
        self.store.outbox.enqueue(
            delivery_id=delivery_id(decision.story_id, notifier, kind, article.id),
            notifier=notifier,
            story_id=decision.story_id,
            kind=kind,
            article_ids=[article.id],
            not_before=self._due_at(watch, notifier, decision, now),
            now=now,
        )
        self.store.decisions.record(decision="send", reason=reason, notifier=notifier, **trail)

    def _due_at(
        self, watch: AlertingWatch, notifier: str, decision: StoryDecision, now: datetime
    ) -> datetime:
        """A new story after its grouping wait; an update `update_interval` after the last."""
        if decision.new_story:
            return now + timedelta(seconds=watch.group_wait)
        last = self.store.outbox.last_alert_at(decision.story_id, notifier) or now
        return max(now, last + timedelta(seconds=watch.update_interval))
