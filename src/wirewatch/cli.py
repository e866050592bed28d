"""The `wirewatch` command line: demo, run, reload, check, backtest, explain, stories, outbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no progress bars in the logs

from wirewatch import defaults
from wirewatch.config.loader import ConfigError, config_path_from, load_config
from wirewatch.config.schema import Config
from wirewatch.logs import setup_logging

if TYPE_CHECKING:
    from wirewatch.pidfile import PidFile
    from wirewatch.service import Service

log = logging.getLogger("wirewatch")


# ---- shared helpers -------------------------------------------------------------------------
def region_checker() -> RegionChecker:
    """What `check` and `run` use to reject region names the gazetteer does not know."""
    return RegionChecker()


class RegionChecker:
    """A region name's problem, or None: unknown (with suggestions), or, for a watch's own
    `places`, a group, which has no one country or division to put a place in."""

    def __init__(self) -> None:
        from wirewatch.rules.gazetteer import Gazetteer

        self.gazetteer = Gazetteer.load()

    def __call__(self, name: str) -> str | None:
        if self.gazetteer.resolve_region(name) is not None:
            return None
        suggestions = self.gazetteer.suggest(name)
        hint = (
            f" (did you mean {' or '.join(repr(s) for s in suggestions[:3])}?)"
            if suggestions
            else ""
        )
        return f"unknown region {name!r}{hint}"

    def for_place(self, name: str) -> str | None:
        region = self.gazetteer.resolve_region(name)
        if region is None:
            return self(name)
        if region.kind == "group":
            return (
                f"{region.name} is a group of regions: name the country or division the place "
                "is in ({name: …, region: …})"
            )
        return None


def load_checked(path: Path, *, check_regions: bool = True) -> tuple[Config | None, list[str]]:
    """(config, []) when the file is valid, else (None, every problem as FILE:LINE: ...)."""
    try:
        return load_config(path, region_check=region_checker() if check_regions else None), []
    except ConfigError as exc:
        return None, [str(problem) for problem in exc.problems]
    except (OSError, ValueError) as exc:
        return None, [f"wirewatch: {exc}"]


def load_or_report(args: argparse.Namespace, *, check_regions: bool = True) -> Config | None:
    """The validated config, or None after printing every problem to stderr."""
    try:
        path = config_path_from(args.config)
    except ValueError as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return None
    config, problems = load_checked(path, check_regions=check_regions)
    for problem in problems:
        print(problem, file=sys.stderr)
    return config


# ---- commands ---------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return 1
    print(
        f"{config_path_from(args.config)}: ok ({len(config.outlets)} outlets, "
        f"{len(config.watches)} watches, {len(config.notifiers)} notifiers)"
    )
    for line in region_lines(config):
        print(line)
    return 0


def region_lines(config: Config) -> list[str]:
    """What each watch's region names mean, so that a surprise shows before the first alert:
    '  balochistan-attacks: Baluchistan = Balochistan, province or state in Pakistan'."""
    from wirewatch.rules.gazetteer import Gazetteer

    gazetteer = Gazetteer.load()
    lines = []
    for watch in config.watches:
        for name in watch.regions:
            region = gazetteer.resolve_region(name)
            if region is None:
                continue
            meaning = gazetteer.describe(region)
            line = f"  {watch.name}: {name} = " + (
                meaning if region.name == name else f"{region.name}, {meaning}"
            )
            if others := gazetteer.elsewhere(name, region):
                line += f" (also in {', '.join(others[:3])}: write '{name}, {others[0]}')"
            lines.append(line)
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    from wirewatch.pidfile import AlreadyRunning, PidFile, pid_path

    config = load_or_report(args)
    if config is None:
        return 1
    path = config_path_from(args.config).resolve()
    lock = pid_path(config.storage.sqlite_path)
    pidfile = PidFile(lock) if lock else None
    try:
        if pidfile and not args.wait:
            pidfile.acquire(str(path))
    except (AlreadyRunning, OSError) as exc:
        print(f"wirewatch run: {exc}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(serve(config, path, standby=pidfile if args.wait else None))
    finally:
        if pidfile:
            pidfile.release()


async def take_over(pidfile: PidFile, path: Path, stopping: asyncio.Event) -> bool:
    """`run --wait`: wait until no other service holds the database; False if stopped first."""
    holder = pidfile.holder()
    if holder is not None:
        log.info(
            "standby: pid %d runs on this database; taking over when it exits",
            holder.pid,
            extra={"event": "service.standby", "holder": holder.pid},
        )
    while not pidfile.try_acquire(str(path)):
        if stopping.is_set():
            return False
        await asyncio.sleep(defaults.STANDBY_POLL_S)
    if holder is not None:
        log.info("took over the database", extra={"event": "service.took_over"})
    return True


async def serve(config: Config, path: Path, *, standby: PidFile | None = None) -> int:
    """`wirewatch run`: the service until SIGTERM/SIGINT; SIGHUP re-reads `path`.

    `standby`: the pid file to wait for (`--wait`): the model is loaded first, then the
    service starts the moment the database is free.
    """
    from wirewatch.service import Service

    service = Service(config)
    reloads: set[asyncio.Task] = set()

    def on_stop(signame: str) -> None:
        if service.stopping.is_set():
            log.warning("second %s: exiting now", signame, extra={"event": "service.killed"})
            os._exit(1)  # committed work is safe in the store; the rest is redone on start
        log.info("%s: stopping", signame, extra={"event": "service.stopping", "signal": signame})
        service.stopping.set()

    def on_hup() -> None:
        if service.stopping.is_set():
            return
        task = asyncio.create_task(reload_config(service, path))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_stop, sig.name)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    code = 0
    try:
        if standby is not None:
            await service.prepare()
        if standby is None or await take_over(standby, path, service.stopping):
            await service.start()
            await service.run_forever()
    except OSError as exc:  # e.g. the listen address is taken
        log.error("wirewatch cannot run: %s", exc, extra={"event": "service.failed"})
        code = 1
    finally:
        for task in reloads:
            task.cancel()
        await service.stop()
    log.info("wirewatch stopped", extra={"event": "service.stopped", "exit_code": code})
    return code


async def reload_config(service: Service, path: Path) -> None:
    """SIGHUP: validate the file again and swap it in; an invalid one changes nothing."""
    log.info("reloading %s", path, extra={"event": "config.reload", "file": str(path)})
    config, problems = await asyncio.to_thread(load_checked, path)
    if config is None:
        for problem in problems:
            log.error("%s", problem, extra={"event": "config.problem"})
        log.error(
            "config reload failed (%d problems); keeping the running config",
            len(problems),
            extra={"event": "config.reload_failed", "file": str(path), "problems": problems},
        )
        service.metrics.reloads.labels("invalid").inc()
        return
    try:
        await service.reload(config)
    except Exception:
        log.exception(
            "config reload failed; keeping the running config",
            extra={"event": "config.reload_failed", "file": str(path)},
        )
        return
    log.info(
        "config reloaded: %d outlets, %d watches, %d notifiers",
        len(config.outlets),
        len(config.watches),
        len(config.notifiers),
        extra={"event": "config.reloaded", "file": str(path)},
    )


def cmd_reload(args: argparse.Namespace) -> int:
    from wirewatch.pidfile import pid_path, running_service

    config = load_or_report(args)
    if config is None:
        print("wirewatch reload: not sent; the running service keeps its config", file=sys.stderr)
        return 1
    lock = pid_path(config.storage.sqlite_path)
    service = running_service(lock) if lock else None
    if service is None:
        where = lock or "an in-memory database (send SIGHUP to the process yourself)"
        print(f"wirewatch reload: no running service found ({where})", file=sys.stderr)
        return 1
    os.kill(service.pid, signal.SIGHUP)
    path = config_path_from(args.config).resolve()
    print(f"sent SIGHUP to wirewatch run (pid {service.pid}); it re-reads {service.config}")
    if service.config and Path(service.config) != path:
        print(f"note: that is not {path}; the service only ever reads its own file")
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
        from wirewatch.rules.gazetteer import Gazetteer

        gazetteer = Gazetteer.load() if args.labels else None
        specs = [backtest.parse_label_spec(text, gazetteer) for text in args.labels]
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
    from wirewatch.alerts_cli import print_stories

    return with_store(
        args,
        lambda store: print_stories(
            store, sys.stdout, limit=args.limit, watch=args.watch, since=args.since
        ),
    )


def cmd_why(args: argparse.Namespace) -> int:
    from wirewatch.alerts_cli import why

    return with_store(args, lambda store: why(store, args.target, sys.stdout, sys.stderr))


def cmd_silence(args: argparse.Namespace) -> int:
    from wirewatch import alerts_cli

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1

    def act(store) -> int:
        if args.action == "list":
            return alerts_cli.list_silences(store, sys.stdout, include_expired=args.all)
        if args.action == "expire":
            return alerts_cli.expire_silence(store, args.id, sys.stdout, sys.stderr)
        return alerts_cli.add_silence(
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


def with_store(args: argparse.Namespace, action, *, config: Config | None = None) -> int:
    """Run `action(store)` on the config's database; 1 when the config is invalid."""
    from wirewatch.service import open_store

    config = config or load_or_report(args, check_regions=False)
    if config is None:
        return 1
    store = open_store(config)
    try:
        return action(store)
    finally:
        store.close()


def cmd_outlets(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from wirewatch.service import open_store

    config = load_or_report(args, check_regions=False)
    if config is None:
        return 1
    store = open_store(config)
    try:
        states = {state.outlet: state for state in store.all_fetch_states()}
    finally:
        store.close()
    now = datetime.now(UTC)

    def when(moment: datetime | None) -> str:
        return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "never"

    def figure(value: float | None, scale: float = 1.0, digits: int = 0) -> str:
        return "-" if value is None else f"{value * scale:.{digits}f}"

    print(
        f"{'outlet':24} {'polls':>6} {'304%':>5} {'fails':>5} {'entries/day':>11} "
        f"{'page fails':>10}  {'last success':19}  last error"
    )
    for outlet in config.outlets:
        state = states.get(outlet.name)
        if state is None:
            print(f"{outlet.name:24} {'never polled':>18}")
            continue
        error = ""
        if state.last_error:
            error = f"{when(state.last_error_at)}  {state.last_error}"
        print(
            f"{outlet.name:24} {state.polls:6} {figure(state.not_modified_ratio, 100):>5} "
            f"{state.consecutive_failures:5} {figure(state.entries_per_day(now), 1, 1):>11} "
            f"{state.page_failures:10}  {when(state.last_success):19}  {error}"
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
    from wirewatch import alerts_cli

    if args.action == "retry":
        return with_store(
            args,
            lambda store: alerts_cli.retry_outbox(
                store, args.ids, dead=args.dead, out=sys.stdout, err=sys.stderr
            ),
        )
    status = None if args.status == "all" else args.status
    return with_store(args, lambda store: alerts_cli.list_outbox(store, sys.stdout, status=status))


# ---- argument parsing -------------------------------------------------------------------------
def duration_arg(text: str) -> float:
    """`6h`, `30m`, `2d` or seconds, as in the config file."""
    from wirewatch.config.schema import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_silence_parser(command) -> None:
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
        sub.add_argument(
            "-c", "--config", metavar="FILE", help="config file (default: $WIREWATCH_CONFIG)"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch",
        description="Alerts on new articles about coordinated attacks and internet shutdowns "
        "in the regions you watch, once per story.",
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="default: info (warning for `demo`, which prints its own account of events)",
    )
    parser.add_argument(
        "--log-format",
        default=os.environ.get("WIREWATCH_LOG_FORMAT", defaults.LOG_FORMAT),
        choices=["text", "json"],
        help="text lines, or one JSON object per line (default: $WIREWATCH_LOG_FORMAT or text)",
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
    run = command(
        "run", cmd_run, "Run the service until SIGTERM/SIGINT; SIGHUP reloads the config."
    )
    run.add_argument(
        "--wait",
        action="store_true",
        help="if another `wirewatch run` uses this database, load the model, then wait for it "
        "to exit and take over at once (restarts and upgrades without a gap)",
    )
    command(
        "reload",
        cmd_reload,
        "Make the running service re-read its config (validated here first; sends SIGHUP "
        "to the pid in DATABASE.pid).",
    )
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
    add_silence_parser(command)
    digest = command("digest", cmd_digest_send, "Send an email digest now: digest send NAME.")
    digest.add_argument("action", choices=["send"])
    digest.add_argument("name", metavar="NAME", help="the email notifier's name")
    command(
        "outlets",
        cmd_outlets,
        "Show each outlet's health: polls, 304 ratio, failures, entries per day, pages.",
    )
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or ("warning" if args.command == "demo" else "info")
    setup_logging(level, args.log_format)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
