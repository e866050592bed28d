"""`wirewatch run` (the service until SIGTERM/SIGINT) and `wirewatch reload` (SIGHUP to it)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from wirewatch.cli.common import AddCommand, load_or_report, shown
from wirewatch.config.loader import config_path_from
from wirewatch.service.pidfile import (
    AlreadyRunning,
    PidFile,
    check_path,
    pid_path,
    running_service,
)


def register(command: AddCommand) -> None:
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


def cmd_run(args: argparse.Namespace) -> int:
    from wirewatch.service.loop import run
    from wirewatch.service.runner import serve

    config = load_or_report(args)
    if config is None:
        return 1
    path = config_path_from(args.config).resolve()
    # one `run` per SQLite file; on PostgreSQL several share the work (no pid file)
    database = config.storage.sqlite_path
    lock = pid_path(database) if database else None
    pidfile = PidFile(lock) if lock else None
    try:
        if pidfile and not args.wait:
            pidfile.acquire(str(path))
        elif pidfile:
            check_path(pidfile.path)  # a symbolic link is refused now, not after the wait
    except (AlreadyRunning, OSError) as exc:
        print(f"wirewatch run: {exc}", file=sys.stderr)
        return 1
    try:
        standby = pidfile if args.wait else None
        return run(serve(config, path, standby=standby), config.crawler.event_loop)
    finally:
        if pidfile:
            pidfile.release()


def cmd_reload(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        print("wirewatch reload: not sent; the running service keeps its config", file=sys.stderr)
        return 1
    database = config.storage.sqlite_path
    lock = pid_path(database) if database else None
    try:
        service = running_service(lock) if lock else None
    except OSError as exc:  # UnsafePidFile: a symbolic link at the pid file's path
        print(f"wirewatch reload: {exc}", file=sys.stderr)
        return 1
    if service is None:
        where = lock or (
            "PostgreSQL: no pid file; send SIGHUP to each instance yourself"
            if database is None
            else "an in-memory database (send SIGHUP to the process yourself)"
        )
        print(f"wirewatch reload: no running service found ({where})", file=sys.stderr)
        return 1
    os.kill(service.pid, signal.SIGHUP)
    path = config_path_from(args.config).resolve()
    print(f"sent SIGHUP to wirewatch run (pid {service.pid}); it re-reads {shown(service.config)}")
    if service.config and Path(service.config) != path:
        print(f"note: that is not {path}; the service only ever reads its own file")
    return 0
