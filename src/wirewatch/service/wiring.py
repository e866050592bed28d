"""Everything the service, the demo and the commands build from a Config: the store, the
matcher, the notifiers and digests, and the config itself checked against the gazetteer."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from wirewatch import defaults
from wirewatch.config.loader import ConfigError, load_config
from wirewatch.config.notifiers import EmailConfig
from wirewatch.config.schema import Config
from wirewatch.delivery.worker import Claims
from wirewatch.notifiers import Notifier, build_notifier, is_digest
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.store import Store
from wirewatch.store.leases import OutletLease
from wirewatch.util import utcnow


def open_store(config: Config) -> Store:
    return Store(config.storage.target)


def instance_name(config: Config) -> str:
    """This process's name among the instances sharing a database: `storage.instance`, or
    host-pid (a restarted process is a new instance: it inherits no leases or claims)."""
    return config.storage.instance or f"{socket.gethostname()}-{os.getpid()}"


def outlet_leases(store: Store, instance: str) -> OutletLeases | None:
    """How the crawl scheduler leases outlets: only where several instances may share them."""
    return OutletLeases(store, instance) if store.shared else None


@dataclass(frozen=True)
class OutletLeases:
    """This instance's outlet leases, for `CrawlScheduler(leases=...)`."""

    store: Store
    instance: str

    def take(self, outlet: str, interval_s: float) -> OutletLease:
        return self.store.leases.take_outlet(
            outlet,
            self.instance,
            lease_s=interval_s * defaults.OUTLET_LEASE_INTERVALS,
            min_gap_s=interval_s * (1 - defaults.POLL_JITTER_FRACTION),
            grace_s=interval_s * defaults.OUTLET_LEASE_GRACE_INTERVALS,
        )

    def free_at(self, intervals: dict[str, float]) -> dict[str, datetime | None]:
        """Outlet → when this instance may take it (`intervals`: outlet → its interval),
        from one look at the leases; None: now (its lease is ours, or it has none)."""
        looks = self.store.leases.look(intervals)
        free: dict[str, datetime | None] = dict.fromkeys(intervals)
        for look in looks:
            interval_s = intervals[look.outlet]
            free[look.outlet] = look.free_at(
                self.instance,
                grace_s=interval_s * defaults.OUTLET_LEASE_GRACE_INTERVALS,
                min_gap_s=interval_s * (1 - defaults.POLL_JITTER_FRACTION),
            )
        return free

    def release(self, outlet: str) -> None:
        self.store.leases.release_outlet(outlet, self.instance)

    def shares(self) -> tuple[int, list[int]]:
        """Outlets this instance holds, and those each other live instance holds (after
        saying this one is alive)."""
        alive = self.store.leases.heartbeat(self.instance, defaults.INSTANCE_HEARTBEAT_TTL_S)
        held = self.store.leases.outlets_held()
        others = [held.get(name, 0) for name in alive if name != self.instance]
        return held.get(self.instance, 0), others

    def leave(self) -> None:
        self.store.leases.leave(self.instance)

    def extend(self, outlet: str, next_poll_s: float) -> None:
        until = utcnow() + timedelta(seconds=next_poll_s * defaults.OUTLET_LEASE_INTERVALS)
        self.store.leases.extend_outlet(outlet, self.instance, until)


def delivery_claims(config: Config, store: Store, instance: str) -> Claims | None:
    """How the delivery worker claims alerts: only where several instances may share them."""
    return Claims(instance, config.storage.claim_timeout) if store.shared else None


def digest_claim(store: Store, instance: str) -> Callable[[str, datetime], bool] | None:
    """Which instance sends a scheduled digest: only asked where several may."""
    if not store.shared:
        return None
    return lambda name, due: store.leases.claim_digest(name, due, instance)


def build_matcher(config: Config) -> Matcher:
    encoder = Encoder(config.model.name, config.model.device, batch_size=config.model.batch_size)
    return Matcher(config.watches, encoder, Gazetteer.load())


def build_notifiers(config: Config) -> dict[str, Notifier]:
    """One notifier per alert receiver; email digests are sent by `build_digests` instead."""
    return {n.name: build_notifier(n) for n in config.notifiers if not is_digest(n)}


def build_digests(config: Config) -> dict[str, EmailDigestNotifier]:
    return {n.name: EmailDigestNotifier(n) for n in digest_configs(config)}


def digest_configs(config: Config) -> list[EmailConfig]:
    """The `notifiers:` entries delivered as scheduled digests."""
    return [n for n in config.notifiers if is_digest(n)]  # type: ignore[misc]


def region_checker() -> RegionChecker:
    """What `check` and `run` use to reject region names the gazetteer does not know."""
    return RegionChecker()


class RegionChecker:
    """A region name's problem, or None: unknown (with suggestions), or, for a watch's own
    `places`, a group, which has no one country or division to put a place in."""

    def __init__(self) -> None:
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
