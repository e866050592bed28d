"""The process around the service: signals (SIGTERM/SIGINT stop, SIGHUP reloads), the
standby that takes over when the running instance exits (`run --wait`), and reload."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from wirewatch import defaults
from wirewatch.config.schema import Config
from wirewatch.service.pidfile import PidFile
from wirewatch.service.service import Service
from wirewatch.service.wiring import load_checked

log = logging.getLogger("wirewatch")


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
