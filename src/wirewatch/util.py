"""The few helpers every stage shares: the clock, backoff, counted nouns, HTTP's Retry-After."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from wirewatch import defaults

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# Control characters (terminal escapes among them), keeping tab and newline, and the
# direction overrides and isolates that make a headline read backwards.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def utcnow() -> datetime:
    return datetime.now(UTC)


def doubling(first_s: float, steps: int, cap_s: float) -> float:
    """Exponential backoff: `first_s` doubled `steps` times, at most `cap_s` (the one rule that
    failed polls and failed deliveries both back off by)."""
    return min(cap_s, first_s * 2.0 ** min(steps, 32))  # no overflow after days of failures


def plural(n: int, word: str) -> str:
    """'1 source', '3 sources'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def parse_retry_after(
    value: str | None,
    *,
    now: datetime | None = None,
    cap: float = defaults.RETRY_AFTER_MAX_S,
) -> float | None:
    """`Retry-After` as seconds, at most `cap`: delta-seconds or an HTTP date.

    None when absent or garbled; a date in the past gives 0. Outlets and notifiers alike
    read it here, so a receiver's or an outlet's answer means the same everywhere.
    """
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, seconds), cap)


def terminal_safe(text: str) -> str:
    """Text without control characters, direction overrides or lone surrogates: nothing an
    outlet writes can move a terminal's cursor, retitle it or reverse what follows."""
    text = _CONTROL.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) != "Cs")
