"""The `wirewatch` command line: demo, run, check, backtest, explain, stories, outbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from wirewatch.config.loader import ConfigError, config_path_from, load_config
from wirewatch.config.schema import Config

log = logging.getLogger("wirewatch")


# ---- shared helpers -------------------------------------------------------------------------
def region_checker() -> Callable[[str], str | None]:
    """What `check` and `run` use to reject region names the gazetteer does not know."""
    from wirewatch.rules.gazetteer import Gazetteer

    gazetteer = Gazetteer.load()

    def check(name: str) -> str | None:
        if gazetteer.resolve_region(name) is not None:
            return None
        suggestions = gazetteer.suggest(name)
        hint = (
            f" (did you mean {' or '.join(repr(s) for s in suggestions[:3])}?)"
            if suggestions
            else ""
        )
        return f"unknown region {name!r}{hint}"

    return check


def load_or_report(args: argparse.Namespace, *, check_regions: bool = True) -> Config | None:
    """The validated config, or None after printing every problem to stderr."""
    try:
        path = config_path_from(args.config)
        return load_config(path, region_check=region_checker() if check_regions else None)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None
    except (OSError, ValueError) as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return None


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("apscheduler", "sentence_transformers", "httpx", "trafilatura", "htmldate"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


# ---- commands ---------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return 1
    print(
        f"{config_path_from(args.config)}: ok ({len(config.outlets)} outlets, "
        f"{len(config.watches)} watches, {len(config.notifiers)} notifiers)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return 1
    from wirewatch.service import Service

    async def main() -> None:
        service = Service(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload(service)))
        try:
            await service.start()
            log.info(
                "wirewatch running: %d outlets, %d watches",
                len(config.outlets),
                len(config.watches),
            )
            await service.run_forever()
        finally:
            await service.stop()
        log.info("wirewatch stopped cleanly")

    async def reload(service) -> None:
        new = load_or_report(args)
        if new is None:
            log.error("config reload failed; keeping the running config")
            return
        await service.reload(new)
        log.info("config reloaded")

    asyncio.run(main())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from wirewatch.demo.runner import run_demo

    return asyncio.run(run_demo(forever=args.forever, out=sys.stdout))


def cmd_backtest(args: argparse.Namespace) -> int:
    from wirewatch import backtest
    from wirewatch.pipeline import Pipeline
    from wirewatch.service import build_matcher

    config = load_or_report(args)
    if config is None:
        return 1
    try:
        specs = [backtest.parse_label_spec(text) for text in args.labels]
        unknown = {s.watch for s in specs} - {w.name for w in config.watches}
        if unknown:
            raise ValueError(f"--labels names unknown watches: {', '.join(sorted(unknown))}")
        items = backtest.read_corpus(Path(args.corpus))
    except (OSError, ValueError) as exc:
        print(f"wirewatch backtest: {exc}", file=sys.stderr)
        return 1
    store, folder = backtest.temporary_store()
    matcher = build_matcher(config)
    try:
        pipeline = Pipeline(store, matcher, config.watches)
        outcomes = asyncio.run(backtest.run_backtest(pipeline, items))
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
    backtest.print_summary(summaries, len(items), sys.stdout)
    if specs:
        reports = backtest.evaluate_labels(specs, items, outcomes)
        backtest.print_label_reports(reports, items, sys.stdout)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from wirewatch.explain_cli import explain_source

    config = load_or_report(args)
    if config is None:
        return 1
    return asyncio.run(explain_source(config, args.source, sys.stdout))


def cmd_stories(args: argparse.Namespace) -> int:
    from wirewatch.service import open_store

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    store = open_store(config)
    try:
        for story in store.recent_stories(limit=args.limit, watch=args.watch):
            print(f"{story.id}  [{story.watch}]  {story.title}")
            seen = f"first {story.first_seen:%Y-%m-%d %H:%M}Z, last {story.last_seen:%H:%M}Z"
            print(f"    {seen}  places: {', '.join(story.places) or '-'}")
            for source in story.sources:
                print(f"    - {source.outlet}: {source.title}  {source.url or ''}")
    finally:
        store.close()
    return 0


def cmd_outlets(args: argparse.Namespace) -> int:
    from wirewatch.service import open_store

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    store = open_store(config)
    try:
        states = {state.outlet: state for state in store.all_fetch_states()}
    finally:
        store.close()
    print(f"{'outlet':24} {'polls':>6} {'304%':>5} {'fails':>5}  {'last success':20}  last error")
    for outlet in config.outlets:
        state = states.get(outlet.name)
        if state is None:
            print(f"{outlet.name:24} {'never polled':>18}")
            continue
        ratio = 100 * state.not_modified / state.polls if state.polls else 0.0
        success = f"{state.last_success:%Y-%m-%d %H:%M:%S}" if state.last_success else "never"
        print(
            f"{outlet.name:24} {state.polls:6} {ratio:5.0f} {state.consecutive_failures:5}  "
            f"{success:20}  {state.last_error or ''}"
        )
    return 0


def cmd_digest_send(args: argparse.Namespace) -> int:
    from wirewatch.digest import DigestSender
    from wirewatch.service import build_digests, open_store

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
        print(f"digest {args.name}: not sent: {report.error}", file=sys.stderr)
        return 1
    print(
        f"digest {args.name}: "
        + (f"sent {report.alerts} alerts" if report.sent else "nothing new, not sent")
    )
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from wirewatch.service import open_store

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    store = open_store(config)
    try:
        rows = store.outbox_rows(None if args.status == "all" else args.status)
        for row in rows:
            print(
                f"{row.delivery_id}  {row.status:9}  {row.notifier:16}  {row.kind:12}  "
                f"{row.story_id:8}  attempts={row.attempts}  {row.last_error or ''}"
            )
        print(f"{len(rows)} deliveries")
    finally:
        store.close()
    return 0


# ---- argument parsing -------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch",
        description="Alerts on new articles about coordinated attacks and internet shutdowns "
        "in the regions you watch, once per story.",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str, *, config: bool = True):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if config:
            sub.add_argument(
                "-c", "--config", metavar="FILE", help="config file (default: $WIREWATCH_CONFIG)"
            )
        sub.set_defaults(handler=handler)
        return sub

    demo = command(
        "demo", cmd_demo, "Run the whole service on built-in local demo outlets.", config=False
    )
    demo.add_argument("--forever", action="store_true", help="keep polling after the first cycle")
    command("run", cmd_run, "Run the service until SIGTERM/SIGINT; SIGHUP reloads the config.")
    command("check", cmd_check, "Validate the config; every problem as FILE:LINE: field: message.")
    backtest = command(
        "backtest",
        cmd_backtest,
        "Run matching and de-duplication over stored articles (JSON Lines).",
    )
    backtest.add_argument("corpus", metavar="CORPUS.jsonl")
    backtest.add_argument("--out", metavar="OUT.jsonl", help="write one result line per article")
    backtest.add_argument(
        "--labels",
        action="append",
        default=[],
        metavar="WATCH=LABEL[@REGION]",
        help="score a watch against the corpus labels (repeatable), e.g. "
        "--labels balochistan-attacks=coordinated_attack@Balochistan",
    )
    explain = command("explain", cmd_explain, "Show per watch why one article matches or not.")
    explain.add_argument("source", metavar="URL|FILE.html|-")
    stories = command("stories", cmd_stories, "List recent stories with their sources.")
    stories.add_argument("--watch")
    stories.add_argument("--limit", type=int, default=20)
    digest = command("digest", cmd_digest_send, "Send an email digest now: digest send NAME.")
    digest.add_argument("action", choices=["send"])
    digest.add_argument("name", metavar="NAME", help="the email notifier's name")
    command("outlets", cmd_outlets, "Show each outlet's health: polls, 304 ratio, failures.")
    outbox = command("outbox", cmd_outbox, "List alert deliveries (pending, delivered, dead).")
    outbox.add_argument("--status", default="all", choices=["all", "pending", "delivered", "dead"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
