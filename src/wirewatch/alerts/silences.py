"""Silences: the one check of whether a watch or story is muted, and how a silence is named.

A silenced story is still matched and recorded; its alerts are not sent. Alerts are
checked when they are queued (alerts/policy.py), again just before they are sent or
put in a digest (delivery/), and `wirewatch stories` shows the same answer.
"""

from __future__ import annotations

from datetime import datetime

from wirewatch.store import Silence, Store
from wirewatch.util import utcnow


def silence_covering(
    store: Store, watch: str, story_id: str, now: datetime | None = None
) -> Silence | None:
    """The active silence that covers this watch or this story, if any."""
    now = now or utcnow()
    return next(
        (
            s
            for s in store.silences.all(active_at=now)
            if s.watch == watch or s.story_id == story_id
        ),
        None,
    )


def describe(silence: Silence) -> str:
    """'silence #3 until 2026-12-07 18:00Z: exercise', as decisions and alerts say it."""
    return f"silence #{silence.id} until {silence.ends_at:%Y-%m-%d %H:%M}Z: {silence.reason}"
