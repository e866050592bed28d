"""`wirewatch outbox`: alert deliveries (pending, delivered, dead), and dead letters
requeued so that the running service sends them next. Errors are shown redacted
(`shown_error`): a receiver's URL as `scheme://host/…`, known secrets as `***`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from wirewatch.cli.common import AddCommand, shown, shown_error, stamp, with_store

if TYPE_CHECKING:
    from wirewatch.store import Store


def register(command: AddCommand) -> None:
    outbox = command(
        "outbox",
        cmd_outbox,
        "List alert deliveries (pending, delivered, dead), or requeue dead letters: "
        "outbox retry ID... | outbox retry --dead.",
    )
    outbox.add_argument("action", nargs="?", default="list", choices=["list", "retry"])
    outbox.add_argument("ids", nargs="*", metavar="ID", help="delivery ids to retry")
    outbox.add_argument("--dead", action="store_true", help="retry: every dead letter")
    outbox.add_argument(
        "--status", default="all", choices=["all", "pending", "delivered", "dead", "silenced"]
    )


def cmd_outbox(args: argparse.Namespace) -> int:
    if args.action == "retry":
        return with_store(
            args,
            lambda store: retry_outbox(
                store, args.ids, dead=args.dead, out=sys.stdout, err=sys.stderr
            ),
        )
    status = None if args.status == "all" else args.status
    return with_store(args, lambda store: list_outbox(store, sys.stdout, status=status))


def list_outbox(store: Store, out: TextIO, *, status: str | None) -> int:
    rows = store.outbox.rows(status)
    for row in rows:
        when = stamp(row.delivered_at) if row.status == "delivered" else stamp(row.next_attempt_at)
        error = shown_error(row.last_error) if row.last_error else ""
        print(
            f"{shown(row.delivery_id)}  {row.status:9}  {shown(row.notifier):16}  {row.kind:12}  "
            f"{shown(row.story_id):8}  attempts={row.attempts}  {when}  {error}".rstrip(),
            file=out,
        )
    counts = store.outbox.counts()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "silenced")
    print(f"{len(rows)} deliveries shown ({summary})", file=out)
    return 0


def retry_outbox(store: Store, ids: Sequence[str], *, dead: bool, out: TextIO, err: TextIO) -> int:
    """Requeue dead letters (or pending ones now) so the service tries them at once."""
    wanted = list(ids) + ([r.delivery_id for r in store.outbox.rows("dead")] if dead else [])
    if not wanted:
        print(
            "wirewatch outbox retry: name delivery ids, or --dead for every dead letter", file=err
        )
        return 1
    with store.transaction():
        found = store.outbox.requeue(wanted)
        for row in filter(None, map(store.outbox.get, found)):
            store.decisions.record(
                decision="requeued",
                reason=f"{row.kind} {row.delivery_id} requeued by `wirewatch outbox retry`",
                story_id=row.story_id,
                notifier=row.notifier,
            )
    print(f"requeued {len(found)} deliveries; the running service sends them next", file=out)
    missing = [i for i in wanted if i not in found]
    if missing:
        print(f"not found or already delivered: {shown(', '.join(missing))}", file=err)
        return 1
    return 0
