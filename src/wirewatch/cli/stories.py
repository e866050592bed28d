"""`wirewatch stories` and `wirewatch why`: stories with their sources and delivery state,
and the recorded reason behind every send or skip.

They work while `wirewatch run` is running on the same database. Everything they print from
the store goes through `shown` (errors and reasons through `shown_error`, redacted)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, TextIO

from wirewatch.cli.common import (
    AddCommand,
    duration_arg,
    shown,
    shown_error,
    stamp,
    with_store,
)
from wirewatch.util import utcnow

if TYPE_CHECKING:
    from wirewatch.store import OutboxRow, Store

STATUS_ORDER = ("delivered", "pending", "dead", "silenced")


def register(command: AddCommand) -> None:
    stories = command(
        "stories",
        cmd_stories,
        "List recent stories with their sources and what each notifier got of them.",
    )
    stories.add_argument("--watch", help="only this watch's stories")
    stories.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    stories.add_argument(
        "--since",
        type=duration_arg,
        metavar="DURATION",
        help="only stories seen in the last 6h, 2d...",
    )
    why = command(
        "why",
        cmd_why,
        "Say why a story was notified (or not) and where its alerts are, or what happened to "
        "one article: every recorded decision with its reason.",
    )
    why.add_argument("target", metavar="STORY|ARTICLE", help="a story id (s-12) or an article id")


def cmd_stories(args: argparse.Namespace) -> int:
    return with_store(
        args,
        lambda store: print_stories(
            store, sys.stdout, limit=args.limit, watch=args.watch, since=args.since
        ),
    )


def cmd_why(args: argparse.Namespace) -> int:
    return with_store(args, lambda store: why(store, args.target, sys.stdout, sys.stderr))


def delivery_state(store: Store, story_id: str) -> list[str]:
    """One line per notifier: what reached it, what waits (and why), what was given up."""
    by_notifier: dict[str, list[OutboxRow]] = {}
    for row in store.outbox.of_story(story_id):
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
            parts.append(f"last error: {shown_error(failing.last_error)}")
        ref = store.outbox.story_ref(story_id, notifier)
        if ref:
            parts.append(f"thread {shown(ref)}")
        lines.append(f"{shown(notifier)}: " + ", ".join(parts))
    return lines


def print_stories(
    store: Store, out: TextIO, *, limit: int, watch: str | None, since: float | None
) -> int:
    """Recent stories, newest first, each with its sources and per-notifier delivery state."""
    from wirewatch.alerts.silences import silence_covering

    cutoff = utcnow() - timedelta(seconds=since) if since else None
    count = 0
    for story in store.stories.recent(limit=limit, watch=watch):
        if cutoff and story.last_seen < cutoff:
            break
        count += 1
        silence = silence_covering(store, story.watch, story.id)
        muted = f"  (silenced by #{silence.id} until {stamp(silence.ends_at)})" if silence else ""
        print(f"{shown(story.id)}  [{shown(story.watch)}]  {shown(story.title)}{muted}", file=out)
        print(
            f"    first {stamp(story.first_seen)}, last {stamp(story.last_seen)}, "
            f"best score {story.best_score:.2f}, places: {shown(', '.join(story.places)) or '-'}",
            file=out,
        )
        print(f"    {len(story.sources)} sources:", file=out)
        for source in story.sources:
            print(
                f"      - {shown(source.outlet)}  {stamp(source.published)}  "
                f"{shown(source.title)}  {shown(source.url)}".rstrip(),
                file=out,
            )
        for line in delivery_state(store, story.id) or ["no alerts queued (see `wirewatch why`)"]:
            print(f"    {line}", file=out)
    if not count:
        print("no stories yet", file=out)
    return 0


# ---- why -------------------------------------------------------------------------------------
def print_decisions(decisions: list[dict], out: TextIO) -> None:
    if not decisions:
        print("  (no decisions recorded)", file=out)
    for d in decisions:
        who = "  ".join(
            f"{label}={shown(d[key])}"
            for label, key in (("notifier", "notifier"), ("article", "article_id"))
            if d.get(key)
        )
        when = d["at"][:16].replace("T", " ") + "Z"
        what = f"{shown(d['decision']):9} {shown_error(d['reason'])}"
        print(f"  {shown(when)}  {what}  {who}".rstrip(), file=out)


def why_story(store: Store, story_id: str, out: TextIO) -> int:
    story = store.stories.get(story_id)
    if story is None:
        return 1
    print(f"{shown(story.id)}  [{shown(story.watch)}]  {shown(story.title)}", file=out)
    print(f"  {len(story.sources)} sources; delivery:", file=out)
    for line in delivery_state(store, story.id) or ["no alerts queued"]:
        print(f"    {line}", file=out)
    print("decisions, oldest first:", file=out)
    print_decisions(store.decisions.of(story.id), out)
    return 0


def why_article(store: Store, article_id: str, out: TextIO) -> int:
    article = store.articles.get(article_id)
    if article is None:
        return 1
    print(
        f"{shown(article.id)}  {shown(article.outlet)}  {stamp(article.published)}  "
        f"{shown(article.title)}",
        file=out,
    )
    for match in store.articles.matches_of(article.id):
        verdict = "fired" if match["matched"] else "no match"
        story = f" -> story {shown(match['story_id'])}" if match["story_id"] else ""
        print(
            f"  {shown(match['watch'])}: {verdict}, score {match['score']:.2f} "
            f"(threshold {match['threshold']:.2f}){story}: {shown(match['reason'])}",
            file=out,
        )
    print("decisions, oldest first:", file=out)
    print_decisions(store.decisions.of(article_id=article.id), out)
    return 0


def why(store: Store, target: str, out: TextIO, err: TextIO) -> int:
    """Why a story was (or was not) notified, or what happened to one article."""
    if why_story(store, target, out) == 0 or why_article(store, target, out) == 0:
        return 0
    print(f"wirewatch why: no story or article {shown(repr(target))} in the store", file=err)
    return 1
