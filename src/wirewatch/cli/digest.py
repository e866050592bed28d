"""`wirewatch digest send NAME`: an email digest now, with everything queued for it."""

from __future__ import annotations

import argparse
import asyncio
import sys

from wirewatch.cli.common import AddCommand, load_or_report, shown_error


def register(command: AddCommand) -> None:
    digest = command("digest", cmd_digest_send, "Send an email digest now: digest send NAME.")
    digest.add_argument("action", choices=["send"])
    digest.add_argument("name", metavar="NAME", help="the email notifier's name")


def cmd_digest_send(args: argparse.Namespace) -> int:
    from wirewatch.delivery.digest import DigestSender
    from wirewatch.service.wiring import build_digests, open_store

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    digests = build_digests(config)
    if args.name not in digests:
        known = ", ".join(sorted(digests)) or "none configured"
        print(f"wirewatch digest: no email notifier {args.name!r} ({known})", file=sys.stderr)
        return 1
    store = open_store(config)
    try:
        report = asyncio.run(DigestSender(store, digests).send(args.name))
    finally:
        store.close()
    if report.error:
        print(f"digest {args.name}: not sent: {shown_error(report.error)}", file=sys.stderr)
        return 1
    print(
        f"digest {args.name}: "
        + (f"sent {report.alerts} alerts" if report.sent else "nothing new, not sent")
    )
    return 0
