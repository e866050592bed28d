"""When each outlet is polled: one APScheduler interval job per outlet, on the event loop.

Each job polls its outlet (`Poller.poll`) and hands the `PollResult` to the
`on_result` callback (the pipeline). Jobs never overlap themselves
(`max_instances=1`), late runs collapse into one (`coalesce=True`) and still run
however late they are, and each run fires within +-jitter of its interval so that
outlets configured alike do not poll in lockstep.

An outlet that keeps failing, or that answered 429/503 with Retry-After, is
polled less often: its next run is pushed out exponentially (see
`poll_backoff_delay`); the first successful poll brings it back to its interval. A
feed that asks for less traffic (`<ttl>`, `Cache-Control: max-age` longer than
the interval; `PollResult.min_interval_s`) gets its next run pushed out as well.

The poller keeps fetch state in memory; the scheduler has it written to the store
every `FETCH_STATE_FLUSH_S`, after `run_once` and when it shuts down.

Several instances on one database (PostgreSQL) share the outlets through leases
(`leases`, store/leases.py): each run of an outlet's job takes the outlet's lease once a
poll slot is free, just before the request (`Poller.poll_if`: a poll queued for a slot on a
busy instance holds no lease that its request would then trail by seconds); the instance
holding it polls and renews it. An instance refused the lease stands by: the outlet's job
is paused (no run, no poll slot, no query per outlet), and one look at the leases of every
outlet due, every `CLAIM_LOOK_S` (`Leases.free_at`: one query), resumes the job of each
outlet it may now take. So an instance's jobs are, in effect, the outlets it holds; an
outlet is polled by one instance at a time, never twice within its interval less its
jitter, and a dead instance's outlets are taken over when their leases run out
(`OUTLET_LEASE_INTERVALS` after their last poll). A holder that pushes its next poll out
(backoff, a feed asking for less traffic) extends its lease as far, so no other instance
polls sooner.
The instances share the outlets evenly: each says it is alive every `FETCH_STATE_FLUSH_S`
and learns how many outlets each live one holds (`Leases.shares`; a clean stop says so at
once, `Leases.leave`). One that holds more than its share (`SHARE_SLACK` aside) while
another holds less releases an outlet instead of polling it, and another takes it at its
next look, the last poll still counting for the interval. Taking a free outlet is never
refused, so none goes unpolled while an instance that died still counts.

APScheduler's asyncio executor cancels running jobs when it shuts down, so every
poll runs in a task of our own and `shutdown()` waits for those to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from wirewatch import defaults
from wirewatch.monitor.poller import OutletSettings, Poller, PollResult
from wirewatch.util import doubling

log = logging.getLogger(__name__)

ResultCallback = Callable[[PollResult], Awaitable[None]]


class Lease(Protocol):
    polls: bool  # this instance polls now
    mine: bool  # this instance holds the lease (polled too recently to poll again now)
    expires_at: datetime


class Leases(Protocol):
    def take(self, outlet: str, interval_s: float) -> Lease:
        """The outlet's lease after trying to take it for a poll now."""
        ...

    def extend(self, outlet: str, next_poll_s: float) -> None:
        """Hold the lease past a next poll pushed out `next_poll_s` from now."""
        ...

    def free_at(self, intervals: dict[str, float]) -> dict[str, datetime | None]:
        """Outlet → when this instance may take it (None: now), from one look at the leases."""
        ...

    def release(self, outlet: str) -> None:
        """Let another instance take the outlet now."""
        ...

    def shares(self) -> tuple[int, list[int]]:
        """Say this instance is alive; the outlets it holds, and each other live one's."""
        ...

    def leave(self) -> None:
        """This instance stops: it no longer counts among those sharing the outlets."""
        ...


T = TypeVar("T")
FLUSH_JOB = "wirewatch:save-fetch-state"  # not an outlet: outlet names cannot contain ":"
CLAIM_JOB = "wirewatch:claim-outlets"
NOT_OUTLETS = frozenset({FLUSH_JOB, CLAIM_JOB})


def next_poll_delay(
    result: PollResult,
    interval_s: float,
    *,
    base_s: float = defaults.BACKOFF_BASE_S,
    max_s: float = defaults.BACKOFF_MAX_S,
) -> float | None:
    """Seconds until the next poll when longer than the interval: backoff or the feed's hint."""
    delays = [
        poll_backoff_delay(result, interval_s, base_s=base_s, max_s=max_s),
        result.min_interval_s,
    ]
    longest = max((d for d in delays if d is not None), default=None)
    return longest if longest is not None and longest > interval_s else None


def poll_backoff_delay(
    result: PollResult,
    interval_s: float,
    *,
    base_s: float = defaults.BACKOFF_BASE_S,
    max_s: float = defaults.BACKOFF_MAX_S,
    after_failures: int = defaults.BACKOFF_AFTER_FAILURES,
) -> float | None:
    """Seconds until the outlet's next poll when that is longer than its interval, else None.

    After `after_failures` consecutive failures the wait doubles with every further
    failure, from max(interval, base_s) up to max(max_s, interval). A Retry-After from the
    outlet is honoured up to the same cap.
    """
    cap = max(max_s, interval_s)
    delay = 0.0
    failures = result.consecutive_failures
    if result.status == "error" and failures >= after_failures:
        delay = doubling(max(interval_s, base_s), failures - after_failures, cap)
    if result.retry_after_s is not None:
        delay = max(delay, min(cap, result.retry_after_s))
    return delay if delay > interval_s else None


class CrawlScheduler:
    """Polls outlets on their intervals (`start`) or all at once (`run_once`)."""

    def __init__(
        self,
        poller: Poller,
        on_result: ResultCallback,
        *,
        jitter_s: float | None = None,
        first_run_spread_s: float = defaults.CRAWL_FIRST_RUN_SPREAD_S,
        backoff_base_s: float = defaults.BACKOFF_BASE_S,
        backoff_max_s: float = defaults.BACKOFF_MAX_S,
        shutdown_timeout_s: float = defaults.CRAWL_SHUTDOWN_TIMEOUT_S,
        leases: Leases | None = None,
    ) -> None:
        """`jitter_s`: +- seconds around each run; None: `POLL_JITTER_FRACTION` of the interval."""
        self.poller = poller
        self.on_result = on_result
        self.jitter_s = jitter_s
        self.first_run_spread_s = first_run_spread_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self.outlets: dict[str, OutletSettings] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping = False  # shutdown began: run_once's workers take no further outlet
        self.leases = leases
        self.held: set[str] = set()  # outlets whose lease this instance holds
        # outlets another instance holds (their jobs paused) → when to look at them again
        self.standby: dict[str, datetime] = {}
        self._next_look: datetime | None = None  # the earliest of `standby`'s times
        self.instances = 1  # instances sharing the outlets, this one included (leases)
        self._mine: int | None = None  # outlets held, as the store last said, since counted
        self._others: list[int] = []  # outlets each other live instance held then

    # ---- one poll ---------------------------------------------------------------------

    async def poll_outlet(self, outlet: OutletSettings) -> PollResult | None:
        """Poll once and hand the result on; None when the poll itself blew up (logged) or,
        with leases, another instance holds the outlet.

        A result with articles is handed on in a task of its own (`shutdown` waits for it):
        the job ends with its poll, not once the articles are matched, so a busy pipeline
        never makes the outlet's next run miss its time (`max_instances=1` would skip it),
        and the lease a skipped run leaves to run out never passes the outlet, news and
        all, to another instance that would match the same articles again.
        """
        result = await self._poll(outlet, leased=self.leases is not None)
        if result is None:
            return None
        if result.articles:
            self._track(self._hand_on(outlet, result), f"result:{outlet.name}")
        else:
            await self._hand_on(outlet, result)
        return result

    async def _poll(self, outlet: OutletSettings, *, leased: bool = False) -> PollResult | None:
        """`leased`: take the outlet's lease first, when a poll slot is free (None: not ours)."""
        try:
            if leased:
                return await self.poller.poll_if(outlet, lambda: self._take_lease(outlet))
            return await self.poller.poll(outlet)
        except Exception:
            log.exception("outlet %s: poll failed", outlet.name)
            return None

    async def _hand_on(self, outlet: OutletSettings, result: PollResult) -> None:
        try:
            await self.on_result(result)
        except Exception:
            log.exception("outlet %s: processing the poll result failed", outlet.name)

    def _spawn(self, outlet: OutletSettings) -> asyncio.Task[PollResult | None]:
        return self._track(self.poll_outlet(outlet), f"poll:{outlet.name}")

    def _track(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """A task that `shutdown` waits for."""
        task = asyncio.create_task(work, name=name)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def run_once(self, outlets: Iterable[OutletSettings]) -> list[PollResult]:
        """Poll every outlet once, concurrently, and wait for every `on_result` to finish;
        the results come back in the order the polls finished.

        As many workers as the poller runs polls at once take the outlets in turn (not a
        task per outlet waiting for its turn: ten thousand of those cost memory and keep
        the garbage collector busy). A result with articles is handed to `on_result` in a
        task of its own, so that the worker polls its next outlet while they are matched;
        the others (most polls: nothing new) are handed on by the worker itself.
        """
        todo = iter(list(outlets))
        results: list[PollResult] = []
        handing_on: set[asyncio.Task[None]] = set()

        async def worker() -> None:
            for outlet in todo:
                if self._stopping:
                    return
                result = await self._poll(outlet)
                if result is None:
                    continue
                results.append(result)
                if not result.articles:
                    await self._hand_on(outlet, result)
                    continue
                task = self._track(self._hand_on(outlet, result), f"result:{outlet.name}")
                handing_on.add(task)
                task.add_done_callback(handing_on.discard)

        workers = [self._track(worker(), "poll-worker") for _ in range(self._workers())]
        try:
            await asyncio.gather(*workers)
            while handing_on:
                await asyncio.gather(*handing_on)
        finally:
            self._flush()
        return results

    def _workers(self) -> int:
        return max(1, int(getattr(self.poller, "concurrency", defaults.GLOBAL_CONCURRENCY)))

    def _flush(self) -> None:
        flush = getattr(self.poller, "flush", None)
        if flush is not None:
            flush()

    async def _flush_job(self) -> None:
        """A coroutine, so that APScheduler runs it on the event loop (the store's thread)."""
        self._flush()
        if self._scheduler is not None:  # a run that fired as the instance stopped would say
            self._count_instances()  # it is alive again, after it said it leaves

    async def _job(self, name: str) -> None:
        """The APScheduler job of outlet `name`."""
        outlet = self.outlets.get(name)
        if outlet is None:  # removed while this run was queued
            return
        task = self._spawn(outlet)  # with leases, the poll takes the lease first
        try:
            result = await asyncio.shield(task)  # shutdown cancels this job, never the poll
        except asyncio.CancelledError:
            return
        if result is not None:
            self._apply_backoff(name, result)

    # ---- leases (several instances on one database) ----------------------------------------

    def _take_lease(self, outlet: OutletSettings) -> bool:
        """True when this instance polls `outlet` now; else its next run is moved to just
        after the other instance's lease runs out."""
        assert self.leases is not None
        if outlet.name in self.held and self._over_share():
            self._release(outlet.name)
            return False
        try:
            lease = self.leases.take(outlet.name, outlet.interval)
        except Exception:
            log.exception("outlet %s: its lease could not be taken; not polled now", outlet.name)
            return False
        if lease.mine and not lease.polls:  # a late run, then one on time: wait for the next
            return False
        if lease.polls:
            if outlet.name not in self.held:  # newly ours: another instance polled it last
                self.held.add(outlet.name)
                if self._mine is not None:
                    self._mine += 1
                forget = getattr(self.poller, "forget", None)
                if forget is not None:
                    forget(outlet.name)
            return True
        if self.held:
            self.held.discard(outlet.name)
        self._stand_by(outlet.name, lease.expires_at)
        return False

    def _count_instances(self) -> None:
        if self.leases is None:
            return
        try:
            self._mine, self._others = self.leases.shares()
        except Exception:
            log.exception("could not count the instances sharing the outlets")
            return
        self.instances = 1 + len(self._others)

    def _leave(self) -> None:
        if self.leases is None:
            return
        try:
            self.leases.leave()
        except Exception:  # it counts until its heartbeat runs out (INSTANCE_HEARTBEAT_TTL_S)
            log.exception("could not tell the other instances that this one stops")

    def _over_share(self) -> bool:
        """This instance holds more outlets than its share (and the slack) of them, and
        another holds less than its share: releasing one gives it somewhere to go."""
        if not self._others:
            return False
        share = math.ceil(len(self.outlets) / self.instances)
        mine = len(self.held) if self._mine is None else self._mine
        return mine > share + max(1, int(share * defaults.SHARE_SLACK)) and (
            min(self._others) < share
        )

    def _release(self, name: str) -> None:
        """Not polled now: the outlet goes to an instance with less than its share."""
        assert self.leases is not None
        try:
            self.leases.release(name)
        except Exception:
            log.exception("outlet %s: its lease could not be released", name)
            return
        self.held.discard(name)
        if self._mine is not None:
            self._mine -= 1
        log.debug("outlet %s: released to the other instances (%d held)", name, len(self.held))

    def _extend_lease(self, name: str, delay_s: float) -> None:
        assert self.leases is not None
        try:
            self.leases.extend(name, delay_s)
        except Exception:  # the others may poll it sooner than asked: no harm beyond that
            log.exception("outlet %s: its lease could not be extended", name)

    def _stand_by(self, name: str, look_at: datetime) -> None:
        """Another instance holds `name`: its job is paused until a look at its lease
        (`_claim_look`, from `look_at` on) finds that this instance may take it."""
        job = self._scheduler.get_job(name) if self._scheduler else None
        if job is None:
            return
        job.pause()
        self.standby[name] = look_at
        if self._next_look is None or look_at < self._next_look:
            self._next_look = look_at

    async def _claim_look(self) -> None:
        """Look at the leases of the standby outlets now due, in one query; resume the job
        of each this instance may take, spread a little so that standbys do not race.
        A coroutine, so that APScheduler runs it on the event loop (the store's thread)."""
        now = datetime.now(UTC)
        if self._scheduler is None or self._next_look is None or self._next_look > now:
            return
        due = {
            name: self.outlets[name].interval
            for name, when in self.standby.items()
            if when <= now and name in self.outlets  # `set_outlets` drops removed ones
        }
        try:
            free = self.leases.free_at(due) if self.leases is not None and due else {}
        except Exception:  # the store is down: look again a little later, not at once
            log.exception("could not look at the leases of %d outlets", len(due))
            self._next_look = now + timedelta(seconds=defaults.FETCH_STATE_FLUSH_S)
            return
        for name, when in free.items():
            if when is not None and when > now:
                self.standby[name] = when
                continue
            del self.standby[name]
            job = self._scheduler.get_job(name)
            if job is not None:
                spread = random.uniform(0, due[name] * defaults.POLL_JITTER_FRACTION)
                job.modify(next_run_time=now + timedelta(seconds=spread))
        self._next_look = min(self.standby.values(), default=None)

    # ---- backoff ------------------------------------------------------------------------

    def _apply_backoff(self, name: str, result: PollResult) -> None:
        outlet = self.outlets.get(name)
        if outlet is None or self._scheduler is None:
            return
        delay = next_poll_delay(
            result, outlet.interval, base_s=self.backoff_base_s, max_s=self.backoff_max_s
        )
        if delay is None:
            return
        delay += random.uniform(0, delay * defaults.POLL_JITTER_FRACTION)
        job = self._scheduler.get_job(name)
        if job is None:
            return
        pushed = datetime.now(UTC) + timedelta(seconds=delay)
        if job.next_run_time is None or job.next_run_time < pushed:
            job.modify(next_run_time=pushed)
            if self.leases is not None and name in self.held:
                self._extend_lease(name, delay)
            if result.status == "error":
                log.info(
                    "outlet %s: %d failed polls%s; next poll in %.0f s",
                    name,
                    result.consecutive_failures,
                    f", Retry-After {result.retry_after_s:g} s" if result.retry_after_s else "",
                    delay,
                )
            else:
                log.debug("outlet %s: the feed asks for %.0f s between polls", name, delay)

    # ---- the schedule -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self, outlets: Iterable[OutletSettings]) -> None:
        """Schedule every outlet; its first poll comes within `first_run_spread_s`.

        Must be called with the event loop running.
        """
        if self.running:
            raise RuntimeError("the crawl scheduler is already running")
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        self._scheduler.start()
        self._count_instances()
        self._every(defaults.FETCH_STATE_FLUSH_S, self._flush_job, FLUSH_JOB, "save fetch state")
        if self.leases is not None:
            look = "look at standby outlets' leases"
            self._every(defaults.CLAIM_LOOK_S, self._claim_look, CLAIM_JOB, look)
        self.set_outlets(outlets)

    def set_outlets(self, outlets: Iterable[OutletSettings]) -> None:
        """Replace the outlets: new ones are scheduled, removed ones dropped, and changed
        intervals rescheduled. Other changes (feed URL, fetch_articles) apply from the
        next poll. Before `start`, only remembers them."""
        new = {outlet.name: outlet for outlet in outlets}
        old, self.outlets = self.outlets, new
        if self._scheduler is None:
            return
        for name in old.keys() - new.keys():
            self._remove_job(name)
            self.standby.pop(name, None)
        for name, outlet in new.items():
            job = self._scheduler.get_job(name)
            if job is None:
                self._add_job(outlet)
            elif old[name].interval != outlet.interval:
                job.reschedule(self._trigger(outlet))  # a standby job too: it looks again
                self.standby.pop(name, None)
                log.info("outlet %s: now polled every %g s", name, outlet.interval)

    def _every(self, seconds: float, job: Any, job_id: str, name: str) -> None:
        """A housekeeping job every ``seconds``: one at a time, and a busy loop delays it but
        never skips it."""
        assert self._scheduler is not None
        self._scheduler.add_job(
            job,
            trigger=IntervalTrigger(seconds=seconds, timezone=UTC),
            id=job_id,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def _trigger(self, outlet: OutletSettings) -> IntervalTrigger:
        jitter = self.jitter_s
        if jitter is None:
            jitter = outlet.interval * defaults.POLL_JITTER_FRACTION
        return IntervalTrigger(seconds=outlet.interval, jitter=jitter or None, timezone=UTC)

    def _add_job(self, outlet: OutletSettings) -> None:
        assert self._scheduler is not None
        spread = min(self.first_run_spread_s, outlet.interval)
        first = datetime.now(UTC) + timedelta(seconds=random.uniform(0, max(spread, 0)))
        self._scheduler.add_job(
            self._job,
            trigger=self._trigger(outlet),
            args=[outlet.name],
            id=outlet.name,
            name=f"poll {outlet.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=defaults.CRAWL_MISFIRE_GRACE_S,
            next_run_time=first,
            replace_existing=True,
        )

    def _remove_job(self, name: str) -> None:
        assert self._scheduler is not None
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(name)

    def next_run_time(self, name: str) -> datetime | None:
        """When outlet `name` is polled next (None: not scheduled)."""
        job = self._scheduler.get_job(name) if self._scheduler else None
        return job.next_run_time if job else None

    def job_ids(self) -> list[str]:
        if self._scheduler is None:
            return []
        return sorted(job.id for job in self._scheduler.get_jobs() if job.id not in NOT_OUTLETS)

    async def shutdown(self) -> None:
        """Stop scheduling, then wait for polls in flight (and their `on_result`) to finish.

        Polls still running after `shutdown_timeout_s` are cancelled; their entries were
        not marked seen, so the next start polls them again.
        """
        self._stopping = True
        try:
            await self._stop()
        finally:
            self._stopping = False

    async def _stop(self) -> None:
        if self._scheduler is not None:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._leave()
        pending = await self._wait_for_running(self.shutdown_timeout_s)
        for task in pending:
            log.warning(
                "%s still running after %g s: cancelled", task.get_name(), self.shutdown_timeout_s
            )
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self._flush()

    async def _wait_for_running(self, timeout_s: float) -> list[asyncio.Task[Any]]:
        """Wait for the tracked tasks, those they start meanwhile included; the unfinished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while running := [task for task in self._running if not task.done()]:
            left = deadline - loop.time()
            if left <= 0:
                return running
            await asyncio.wait(running, timeout=left)
        return []
