"""`wirewatch silence`: mute a watch or a story for a while (matched and recorded, not
notified); list and expire silences. The running service honours them at its next
article or delivery pass."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from wirewatch.cli.common import (
    AddCommand,
    add_config_argument,
    duration_arg,
    load_or_report,
    shown,
    stamp,
    with_store,
)
from wirewatch.util import utcnow

if TYPE_CHECKING:
    from wirewatch.store import Silence, Store


def register(command: AddCommand) -> None:
    silence = command(
        "silence",
        cmd_silence,
        "Silence a watch or a story for a while (matched and recorded, not notified): "
        "silence add --watch W | --story S --for 6h --reason TEXT; silence list; "
        "silence expire ID.",
        config=False,  # -c goes after the action: silence list -c FILE
    )
    actions = silence.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a silence", description="Add a silence.")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--watch", help="silence every story of this watch")
    target.add_argument("--story", help="silence one story (its id, e.g. s-12)")
    add.add_argument(
        "--for", dest="duration", type=duration_arg, required=True, metavar="DURATION",
        help="how long: 30m, 6h, 2d",
    )  # fmt: skip
    add.add_argument("--reason", required=True, help="why (shown with every silenced alert)")
    add.add_argument("--by", help="who (default: $USER)")
    listing = actions.add_parser("list", help="list active silences", description="List silences.")
    listing.add_argument("--all", action="store_true", help="expired ones too")
    expire = actions.add_parser("expire", help="end a silence now", description="End a silence.")
    expire.add_argument("id", type=int, metavar="ID")
    for sub in (add, listing, expire):
        add_config_argument(sub)


def cmd_silence(args: argparse.Namespace) -> int:
    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1

    def act(store) -> int:
        if args.action == "list":
            return list_silences(store, sys.stdout, include_expired=args.all)
        if args.action == "expire":
            return expire_silence(store, args.id, sys.stdout, sys.stderr)
        return add_silence(
            store,
            sys.stdout,
            sys.stderr,
            watches=[w.name for w in config.watches],
            watch=args.watch,
            story=args.story,
            duration_s=args.duration,
            reason=args.reason,
            created_by=args.by or os.environ.get("USER"),
        )

    return with_store(args, act, config=config)


def describe_silence(silence: Silence, now: datetime) -> str:
    target = f"watch {silence.watch}" if silence.watch else f"story {silence.story_id}"
    state = "active" if now < silence.ends_at else "expired"
    by = f" by {shown(silence.created_by)}" if silence.created_by else ""
    return (
        f"#{silence.id}  {state:7}  {shown(target)}  until {stamp(silence.ends_at)}"
        f"  ({shown(silence.reason)}){by}"
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
    silence_id = store.silences.add(
        ends_at=now + timedelta(seconds=duration_s),
        reason=reason.strip(),
        watch=watch,
        story_id=story,
        created_by=created_by,
    )
    [silence] = [s for s in store.silences.all() if s.id == silence_id]
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
    if story is not None and store.stories.get(story) is None:
        return f"no story {story!r} in the store (see `wirewatch stories`)"
    if duration_s <= 0:
        return "--for must be longer than 0"
    if not reason.strip():
        return "--reason must say why (it is shown with every silenced alert)"
    return None


def list_silences(store: Store, out: TextIO, *, include_expired: bool) -> int:
    now = utcnow()
    silences = store.silences.all() if include_expired else store.silences.all(active_at=now)
    for silence in silences:
        print(describe_silence(silence, now), file=out)
    if not silences:
        print("no silences" if include_expired else "no active silences", file=out)
    return 0


def expire_silence(store: Store, silence_id: int, out: TextIO, err: TextIO) -> int:
    if store.silences.expire(silence_id):
        print(f"silence #{silence_id} expired: alerts go out again", file=out)
        return 0
    print(f"wirewatch silence: no active silence #{silence_id}", file=err)
    return 1
