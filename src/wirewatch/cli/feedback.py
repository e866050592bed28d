"""`wirewatch feedback`: judge an article for a watch (relevant or not), list and undo
judgements; `wirewatch suggest`: the YAML patch the judgements imply. A running service
reads new judgements from the shared store within ``FEEDBACK_POLL_S``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from wirewatch.cli.common import (
    AddCommand,
    load_or_report,
    shown,
    shown_text,
    stamp,
    with_store,
)

if TYPE_CHECKING:
    from wirewatch.store import Judgement, Store

VERDICTS = {"relevant": True, "not-relevant": False}
USAGE = (
    "feedback ARTICLE --watch W (relevant|not-relevant) [--note TEXT] | feedback list | "
    "feedback undo ID"
)


class IntermixedParser(argparse.ArgumentParser):
    """Options may come between the words: `feedback a-17 --watch W relevant`."""

    _inner = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def register(command: AddCommand) -> None:
    parser = command(
        "feedback",
        cmd_feedback,
        "Judge one article (its id or URL) for a watch, alerted or not; a running service "
        f"decides its next articles with it. Usage: {USAGE}.",
    )
    parser.__class__ = IntermixedParser
    parser.usage = (
        "wirewatch feedback [-c FILE] (ARTICLE --watch W relevant|not-relevant [--note TEXT] "
        "[--by WHO] | list [--all] | undo ID)"
    )
    parser.add_argument(
        "words", nargs="+", metavar="WORDS", help="ARTICLE relevant|not-relevant, list, or undo ID"
    )
    parser.add_argument("--watch", help="the watch the judgement is for")
    parser.add_argument("--note", help="why (kept with the judgement)")
    parser.add_argument("--by", help="who (default: $USER)")
    parser.add_argument("--all", action="store_true", help="list: undone judgements too")
    suggest = command(
        "suggest",
        cmd_suggest,
        "Print the YAML patch (examples, exclude phrases, threshold) the judgements imply.",
    )
    suggest.add_argument("--watch", help="only this watch")


def cmd_feedback(args: argparse.Namespace) -> int:
    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    words, who = args.words, args.by or os.environ.get("USER") or "cli"
    watches = [w.name for w in config.watches]
    if words == ["list"]:
        return with_store(args, lambda s: list_judgements(s, sys.stdout, args.all), config=config)
    if words[0] == "undo" and len(words) == 2:
        return with_store(
            args, lambda s: undo(s, words[1], who, sys.stdout, sys.stderr), config=config
        )
    if len(words) != 2 or words[1] not in VERDICTS or not args.watch:
        print(f"wirewatch feedback: usage: {USAGE}", file=sys.stderr)
        return 2

    def act(store: Store) -> int:
        verdict = VERDICTS[words[1]]
        return judge(store, watches, words[0], args.watch, verdict, who, args.note, sys.stdout)

    return with_store(args, act, config=config)


def judge(
    store: Store,
    watches: list[str],
    article: str,
    watch: str,
    relevant: bool,
    who: str,
    note: str | None,
    out: TextIO,
) -> int:
    from wirewatch.feedback import FeedbackError, record_judgement

    try:
        judgement = record_judgement(
            store, watches, article=article, watch=watch, relevant=relevant, who=who, note=note
        )
    except FeedbackError as exc:
        print(f"wirewatch feedback: {shown(exc)}", file=sys.stderr)
        return 1
    print(describe(judgement), file=out)
    return 0


def describe(judgement: Judgement) -> str:
    verdict = "relevant" if judgement.relevant else "not relevant"
    story = f" (story {judgement.story_id})" if judgement.story_id else ""
    note = f"  note: {shown(judgement.note)}" if judgement.note else ""
    undone = (
        f"  [undone {stamp(judgement.undone_at)} by {shown(judgement.undone_by)}]"
        if judgement.undone_at
        else ""
    )
    return (
        f"#{judgement.id}  {stamp(judgement.at)}  {shown(judgement.watch)}: "
        f"{shown(judgement.article_id)}{story} {verdict}, by {shown(judgement.who)} "
        f"via {judgement.source}{note}{undone}"
    )


def list_judgements(store: Store, out: TextIO, include_undone: bool) -> int:
    judgements = store.feedback.list(include_undone=include_undone)
    for judgement in judgements:
        print(describe(judgement), file=out)
    if not judgements:
        print("no judgements", file=out)
    return 0


def undo(store: Store, reference: str, who: str, out: TextIO, err: TextIO) -> int:
    digits = reference.lstrip("#")
    with store.transaction():
        undone = digits.isdigit() and store.feedback.undo(int(digits), who)
    if not undone:
        print(f"wirewatch feedback: no active judgement #{shown(digits)}", file=err)
        return 1
    print(f"judgement #{digits} undone: the watch no longer learns from it", file=out)
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    from wirewatch.feedback.suggest import suggest_patch

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    watches: list[Any] = [w for w in config.watches if args.watch in (None, w.name)]
    if not watches:
        print(f"wirewatch suggest: no watch {args.watch!r} in the config", file=sys.stderr)
        return 1

    def act(store: Store) -> int:
        sys.stdout.write(shown_text(suggest_patch(store, watches)))
        return 0

    return with_store(args, act, config=config)
