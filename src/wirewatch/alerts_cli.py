"""What `wirewatch stories`, `why`, `silence` and `outbox` print: stories, their delivery
state, the recorded reasons behind every send or skip, silences and the outbox.

Each function takes an open Store and writes to `out`; it returns the exit status. They
work while `wirewatch run` is running on the same database: a silence or a requeued
dead letter takes effect at the service's next article or delivery pass.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TextIO

from wirewatch.store import OutboxRow, Silence, Store, utcnow

STATUS_ORDER = ("delivered", "pending", "dead", "silenced")


def stamp(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}Z" if value else "-"


# ---- stories --------------------------------------------------------------------------------
def delivery_state(store: Store, story_id: str) -> list[str]:
    """One line per notifier: what reached it, what waits (and why), what was given up."""
    by_notifier: dict[str, list[OutboxRow]] = {}
    for row in store.story_deliveries(story_id):
        by_notifier.setdefault(row.notifier, []).append(row)
    lines = []
    for notifier, rows in by_notifier.items():
        counts = Counter(row.status for row in rows)
        parts = [f"{counts[s]} {s}" for s in STATUS_ORDER if counts[s]]
        delivered = [r.delivered_at for r in rows if r.status == "delivered" and r.delivered_at]
        if delivered:
            parts.append(f"last sent {stamp(max(delivered))}")
        waiting = next((r for r in rows if r.status == "pending"), None)
        if waiting is not None:
            parts.append(f"next {waiting.kind} due {stamp(waiting.next_attempt_at)}")
        failing = next((r for r in rows if r.status in ("pending", "dead") and r.last_error), None)
        if failing is not None:
            parts.append(f"last error: {failing.last_error}")
        ref = store.story_ref(story_id, notifier)
        if ref:
            parts.append(f"thread {ref}")
        lines.append(f"{notifier}: " + ", ".join(parts))
    return lines


def print_stories(
    store: Store, out: TextIO, *, limit: int, watch: str | None, since: float | None
) -> int:
    """Recent stories, newest first, each with its sources and per-notifier delivery state."""
    cutoff = utcnow() - timedelta(seconds=since) if since else None
    shown = 0
    for story in store.recent_stories(limit=limit, watch=watch):
        if cutoff and story.last_seen < cutoff:
            break
        shown += 1
        silence = store.active_silence(story.watch, story.id)
        muted = f"  (silenced by #{silence.id} until {stamp(silence.ends_at)})" if silence else ""
        print(f"{story.id}  [{story.watch}]  {story.title}{muted}", file=out)
        print(
            f"    first {stamp(story.first_seen)}, last {stamp(story.last_seen)}, "
            f"best score {story.best_score:.2f}, places: {', '.join(story.places) or '-'}",
            file=out,
        )
        print(f"    {len(story.sources)} sources:", file=out)
        for source in story.sources:
            print(
                f"      - {source.outlet}  {stamp(source.published)}  {source.title}"
                f"  {source.url or ''}".rstrip(),
                file=out,
            )
        for line in delivery_state(store, story.id) or ["no alerts queued (see `wirewatch why`)"]:
            print(f"    {line}", file=out)
    if not shown:
        print("no stories yet", file=out)
    return 0


# ---- why ------------------------------------------------------------------------------------
def print_decisions(decisions: list[dict], out: TextIO) -> None:
    if not decisions:
        print("  (no decisions recorded)", file=out)
    for d in decisions:
        who = "  ".join(
            f"{label}={d[key]}"
            for label, key in (("notifier", "notifier"), ("article", "article_id"))
            if d.get(key)
        )
        when = d["at"][:16].replace("T", " ") + "Z"
        print(f"  {when}  {d['decision']:9} {d['reason']}  {who}".rstrip(), file=out)


def why_story(store: Store, story_id: str, out: TextIO) -> int:
    story = store.get_story(story_id)
    if story is None:
        return 1
    print(f"{story.id}  [{story.watch}]  {story.title}", file=out)
    print(f"  {len(story.sources)} sources; delivery:", file=out)
    for line in delivery_state(store, story.id) or ["no alerts queued"]:
        print(f"    {line}", file=out)
    print("decisions, oldest first:", file=out)
    print_decisions(store.decisions(story.id), out)
    return 0


def why_article(store: Store, article_id: str, out: TextIO) -> int:
    article = store.get_article(article_id)
    if article is None:
        return 1
    print(f"{article.id}  {article.outlet}  {stamp(article.published)}  {article.title}", file=out)
    for match in store.matches_of_article(article.id):
        verdict = "fired" if match["matched"] else "no match"
        story = f" -> story {match['story_id']}" if match["story_id"] else ""
        print(
            f"  {match['watch']}: {verdict}, score {match['score']:.2f} "
            f"(threshold {match['threshold']:.2f}){story}: {match['reason']}",
            file=out,
        )
    print("decisions, oldest first:", file=out)
    print_decisions(store.decisions(article_id=article.id), out)
    return 0


def why(store: Store, target: str, out: TextIO, err: TextIO) -> int:
    """Why a story was (or was not) notified, or what happened to one article."""
    if why_story(store, target, out) == 0 or why_article(store, target, out) == 0:
        return 0
    print(f"wirewatch why: no story or article {target!r} in the store", file=err)
    return 1


# ---- silences -------------------------------------------------------------------------------
def describe_silence(silence: Silence, now: datetime) -> str:
    target = f"watch {silence.watch}" if silence.watch else f"story {silence.story_id}"
    state = "active" if now < silence.ends_at else "expired"
    by = f" by {silence.created_by}" if silence.created_by else ""
    return (
        f"#{silence.id}  {state:7}  {target}  until {stamp(silence.ends_at)}"
        f"  ({silence.reason}){by}"
    )


def add_silence(
    store: Store,
    out: TextIO,
    err: TextIO,
    *,
    watches: Sequence[str],
    watch: str | None,
    story: str | None,
    duration_s: float,
    reason: str,
    created_by: str | None,
) -> int:
    problem = _silence_problem(store, watches, watch, story, duration_s, reason)
    if problem:
        print(f"wirewatch silence: {problem}", file=err)
        return 1
    now = utcnow()
    silence_id = store.add_silence(
        ends_at=now + timedelta(seconds=duration_s),
        reason=reason.strip(),
        watch=watch,
        story_id=story,
        created_by=created_by,
    )
    [silence] = [s for s in store.silences() if s.id == silence_id]
    print(describe_silence(silence, now), file=out)
    return 0


def _silence_problem(
    store: Store,
    watches: Sequence[str],
    watch: str | None,
    story: str | None,
    duration_s: float,
    reason: str,
) -> str | None:
    if watch is not None and watch not in watches:
        close = difflib.get_close_matches(watch, watches, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"no watch {watch!r} in the config{hint}"
    if story is not None and store.get_story(story) is None:
        return f"no story {story!r} in the store (see `wirewatch stories`)"
    if duration_s <= 0:
        return "--for must be longer than 0"
    if not reason.strip():
        return "--reason must say why (it is shown with every silenced alert)"
    return None


def list_silences(store: Store, out: TextIO, *, include_expired: bool) -> int:
    now = utcnow()
    silences = store.silences() if include_expired else store.silences(active_at=now)
    for silence in silences:
        print(describe_silence(silence, now), file=out)
    if not silences:
        print("no silences" if include_expired else "no active silences", file=out)
    return 0


def expire_silence(store: Store, silence_id: int, out: TextIO, err: TextIO) -> int:
    if store.expire_silence(silence_id):
        print(f"silence #{silence_id} expired: alerts go out again", file=out)
        return 0
    print(f"wirewatch silence: no active silence #{silence_id}", file=err)
    return 1


# ---- outbox ---------------------------------------------------------------------------------
def list_outbox(store: Store, out: TextIO, *, status: str | None) -> int:
    rows = store.outbox_rows(status)
    for row in rows:
        when = stamp(row.delivered_at) if row.status == "delivered" else stamp(row.next_attempt_at)
        print(
            f"{row.delivery_id}  {row.status:9}  {row.notifier:16}  {row.kind:12}  "
            f"{row.story_id:8}  attempts={row.attempts}  {when}  {row.last_error or ''}".rstrip(),
            file=out,
        )
    counts = store.outbox_counts()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "silenced")
    print(f"{len(rows)} deliveries shown ({summary})", file=out)
    return 0


def retry_outbox(store: Store, ids: Sequence[str], *, dead: bool, out: TextIO, err: TextIO) -> int:
    """Requeue dead letters (or pending ones now) so the service tries them at once."""
    wanted = list(ids) + ([r.delivery_id for r in store.outbox_rows("dead")] if dead else [])
    if not wanted:
        print(
            "wirewatch outbox retry: name delivery ids, or --dead for every dead letter", file=err
        )
        return 1
    with store.transaction():
        found = store.requeue(wanted)
        for row in filter(None, map(store.get_delivery, found)):
            store.record_decision(
                decision="requeued",
                reason=f"{row.kind} {row.delivery_id} requeued by `wirewatch outbox retry`",
                story_id=row.story_id,
                notifier=row.notifier,
            )
    print(f"requeued {len(found)} deliveries; the running service sends them next", file=out)
    missing = [i for i in wanted if i not in found]
    if missing:
        print(f"not found or already delivered: {', '.join(missing)}", file=err)
        return 1
    return 0
