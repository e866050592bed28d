"""`wirewatch backtest`: matching and de-duplication over stored articles, as `run` does."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from wirewatch.cli.common import AddCommand, SafeOut, load_or_report, shown


def register(command: AddCommand) -> None:
    parser = command(
        "backtest",
        cmd_backtest,
        "Run matching and de-duplication over stored articles (JSON Lines).",
    )
    parser.add_argument("corpus", metavar="CORPUS.jsonl")
    parser.add_argument("--out", metavar="OUT.jsonl", help="write one result line per article")
    parser.add_argument(
        "--labels",
        action="append",
        default=[],
        metavar="WATCH=LABEL[@REGION]",
        help="score a watch against the corpus labels (repeatable), e.g. "
        "--labels balochistan-attacks=coordinated_attack@Balochistan",
    )
    parser.add_argument(
        "--feedback",
        metavar="JUDGEMENTS.jsonl",
        help="judgements to apply as each judged article is processed, one per line: "
        '{"id": "a-17", "watch": "balochistan-attacks", "relevant": false}',
    )


def cmd_backtest(args: argparse.Namespace) -> int:
    from wirewatch import backtest
    from wirewatch.pipeline import Pipeline
    from wirewatch.rules.places import Gazetteer
    from wirewatch.service.wiring import build_matcher

    config = load_or_report(args)
    if config is None:
        return 1
    try:
        gazetteer = Gazetteer.load() if args.labels else None
        specs = [backtest.parse_label_spec(text, gazetteer) for text in args.labels]
        unknown = {s.watch for s in specs} - {w.name for w in config.watches}
        if unknown:
            raise ValueError(f"--labels names unknown watches: {', '.join(sorted(unknown))}")
        items = backtest.read_corpus(Path(args.corpus))
        plan = _judgements(args.feedback, items, config.watches)
    except (OSError, ValueError) as exc:
        print(f"wirewatch backtest: {shown(exc)}", file=sys.stderr)
        return 1
    store, folder = backtest.temporary_store()
    matcher = build_matcher(config)
    try:
        pipeline = Pipeline(store, matcher, config.watches)
        feedback = None
        if plan is not None:
            from wirewatch.feedback.replay import ReplayFeedback

            feedback = ReplayFeedback(store, plan, [w.name for w in config.watches])
        outcomes = asyncio.run(backtest.run_backtest(pipeline, items, feedback))
    finally:
        matcher.close()
        store.close()
        folder.cleanup()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            for item in items:
                line = backtest.output_line(item, outcomes.get(str(item["id"])))
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    summaries = backtest.summarise([w.name for w in config.watches], items, outcomes)
    out = SafeOut(sys.stdout)  # the reports quote the corpus's titles
    backtest.print_summary(summaries, len(items), out)
    if specs:
        reports = backtest.evaluate_labels(specs, items, outcomes)
        backtest.print_label_reports(reports, items, out)
    return 0


def _judgements(path: str | None, items: list[dict], watches: list) -> dict | None:
    """The --feedback file's judgements by article id (None without the option)."""
    if path is None:
        return None
    from wirewatch.feedback.replay import read_judgements

    ids = {str(item["id"]) for item in items}
    return read_judgements(Path(path), ids, [w.name for w in watches])
