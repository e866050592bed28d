"""A real `wirewatch run` process for operations tests, read through its JSON log lines.

    proc = WirewatchProcess(config_path, env={"SLACK_BOT_TOKEN": token})
    await proc.start()
    ready = await proc.wait_for("service.ready")          # the first line with this event
    proc.send(signal.SIGHUP)
    await proc.wait_for("config.reloaded", after=ready)    # a line logged after `ready`
    code = await proc.stop()                               # SIGTERM, then the exit status
    proc.events                                            # every JSON line, parsed
    proc.output                                            # everything printed, raw

Standard error is read continuously (the child never blocks on a full pipe); a line that
is not JSON is kept in `output` and `non_json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

Event = dict[str, Any]
START_TIMEOUT_S = 120.0  # importing torch on a busy 2-core machine


class WirewatchProcess:
    def __init__(
        self,
        config: Path,
        *,
        env: Mapping[str, str] | None = None,
        args: tuple[str, ...] = (),
        command: str = "run",
        command_args: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
        self.args = args
        self.command = command
        self.command_args = command_args
        self.events: list[Event] = []
        self.output: list[str] = []
        self.non_json: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._changed = asyncio.Event()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wirewatch",
            "--log-format",
            "json",
            *self.args,
            self.command,
            *self.command_args,
            "-c",
            str(self.config),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(self.proc.stderr, parse=True)),
            asyncio.create_task(self._read(self.proc.stdout, parse=False)),
        ]

    async def _read(self, stream: asyncio.StreamReader, *, parse: bool) -> None:
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.output.append(text)
            if parse:
                try:
                    event = json.loads(text)
                except ValueError:
                    self.non_json.append(text)
                else:
                    event["_index"] = len(self.events)
                    self.events.append(event)
            self._changed.set()
        self._changed.set()

    def find(self, event: str, *, after: Event | None = None) -> list[Event]:
        start = after["_index"] + 1 if after else 0
        return [e for e in self.events[start:] if e.get("event") == event]

    async def wait_for(
        self,
        event: str | Callable[[Event], bool],
        *,
        after: Event | None = None,
        within: float = START_TIMEOUT_S,
    ) -> Event:
        """The first log line (after `after`) with this event name or matching a predicate."""
        match = event if callable(event) else (lambda e: e.get("event") == event)

        async def first() -> Event:
            seen = after["_index"] + 1 if after else 0
            while True:
                for line in self.events[seen:]:
                    if match(line):
                        return line
                seen = len(self.events)
                if self.proc is not None and self.proc.returncode is not None:
                    tail = "\n".join(self.output[-30:])
                    code = self.proc.returncode
                    raise AssertionError(f"wirewatch exited ({code}) before {event!r}:\n{tail}")
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.5)

        try:
            return await asyncio.wait_for(first(), within)
        except TimeoutError:
            tail = "\n".join(self.output[-30:])
            raise AssertionError(f"no {event!r} within {within}s; output:\n{tail}") from None

    def send(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, within: float = 60.0) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), within)
        await asyncio.gather(*self._readers)
        return code

    async def stop(self, sig: signal.Signals = signal.SIGTERM, within: float = 60.0) -> int:
        if self.proc is not None and self.proc.returncode is None:
            self.send(sig)
        return await self.wait(within)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
        await self.wait()

    async def health_url(self) -> str:
        listening = await self.wait_for("server.listening")
        return f"http://{listening['host']}:{listening['port']}"


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def get_text(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def eventually(
    condition: Callable[[], Any], *, within: float = 60.0, what: str = "condition"
) -> Any:
    """Wait (polling the test's own event loop) until `condition()` is truthy; return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (value := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)
    return value
