"""Work shared between instances on one database: outlets leased to one instance at a
time, and each digest's scheduled send claimed by one instance.

An outlet's lease is taken by the poll itself (`take_outlet`): the instance that holds it
renews it with every poll, and any instance may take it once it has run out, which a live
holder never lets happen (it polls every interval; a lease lasts longer). So an outlet is
polled by one instance at a time, and a dead instance's outlets pass to the others when
their leases run out. No poll is granted sooner than `min_gap_s` after the last one, by
whichever instance (a late run of the scheduler followed by one on time, say). The row
lock of `ON CONFLICT DO UPDATE` decides between instances that try at the same moment.
A lease that ran out stays its holder's for a grace while that holder's heartbeat runs:
an instance busy matching polls late, and its outlets would otherwise pass to another
instance, articles in flight and all, to be read and matched twice.

Each instance also says it is alive (`heartbeat`): a row of its own among the leases, under
a name no outlet can have (outlet names hold no ":"), so that every instance knows how many
share the outlets and none keeps more than its share (`release_outlet`: the first to start
would otherwise keep every outlet it polled before the others were up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from wirewatch.store.db import Database, from_iso, iso
from wirewatch.util import utcnow


@dataclass(frozen=True)
class OutletLease:
    polls: bool  # poll now: the lease was taken or renewed
    mine: bool  # the lease is the asking instance's (also when it is too early to poll)
    holder: str
    expires_at: datetime


@dataclass(frozen=True)
class LeaseLook:
    outlet: str
    holder: str
    expires_at: datetime
    holder_alive: bool  # the holder's heartbeat runs
    polled_at: datetime

    def free_at(self, holder: str, grace_s: float, min_gap_s: float = 0.0) -> datetime | None:
        """When `holder` may take the outlet (`take_outlet`'s rule: the lease run out, past
        the grace while its holder lives, and `min_gap_s` since the last poll); None: at
        any time (it holds the lease itself, whose `min_gap_s` its poll still respects)."""
        if self.holder == holder:
            return None
        free = self.expires_at
        if self.holder_alive:  # a live holder keeps a lease that ran out for the grace
            free += timedelta(seconds=grace_s)
        return max(free, self.polled_at + timedelta(seconds=min_gap_s))


_INSTANCE = "wirewatch:instance:"  # heartbeat rows: outlet names cannot contain ":"
# Taken by its holder; or run out, and either its holder's heartbeat too (it died or left)
# or the grace as well (a live holder whose poll is late: a busy instance keeps its outlets)
_TAKE_OUTLET = (
    "INSERT INTO outlet_leases (outlet, holder, polled_at, expires_at) VALUES (?,?,?,?)"
    " ON CONFLICT (outlet) DO UPDATE SET holder = excluded.holder,"
    " polled_at = excluded.polled_at, expires_at = excluded.expires_at"
    " WHERE (outlet_leases.holder = excluded.holder OR outlet_leases.expires_at <= ?"
    " OR (outlet_leases.expires_at <= excluded.polled_at AND NOT EXISTS ("
    "SELECT 1 FROM outlet_leases AS alive WHERE alive.outlet = ? || outlet_leases.holder"
    " AND alive.expires_at > excluded.polled_at)))"
    " AND outlet_leases.polled_at <= ?"
    " RETURNING holder"
)
_NOT_AN_OUTLET = "wirewatch:%"
_HEARTBEAT = (
    "INSERT INTO outlet_leases (outlet, holder, polled_at, expires_at) VALUES (?,?,?,?)"
    " ON CONFLICT (outlet) DO UPDATE SET polled_at = excluded.polled_at,"
    " expires_at = excluded.expires_at"
)


class LeaseRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def take_outlet(
        self,
        outlet: str,
        holder: str,
        *,
        lease_s: float,
        min_gap_s: float,
        grace_s: float = 0.0,
        now: datetime | None = None,
    ) -> OutletLease:
        """Take or renew `outlet` for a poll now, unless another instance's lease runs or
        the last poll was less than `min_gap_s` ago. A lease run out less than `grace_s`
        ago stays with its holder while that one's heartbeat runs (`heartbeat`): a live
        instance whose poll comes late keeps the outlet; a dead or departed one does not.

        Refused, the lease's `expires_at` is when it may be taken: in the grace, its end."""
        now = now or utcnow()
        expires = now + timedelta(seconds=lease_s)
        earliest = iso(now - timedelta(seconds=min_gap_s))
        graced = iso(now - timedelta(seconds=grace_s))
        params = (outlet, holder, iso(now), iso(expires), graced, _INSTANCE, earliest)
        if self.db.execute(_TAKE_OUTLET, params).fetchone() is not None:
            return OutletLease(True, True, holder, expires)
        row = self.db.execute(
            "SELECT holder, expires_at FROM outlet_leases WHERE outlet = ?", (outlet,)
        ).fetchone()
        until = from_iso(row[1])
        if until <= now:  # run out, its live holder's in the grace
            until += timedelta(seconds=grace_s)
        return OutletLease(False, row[0] == holder, row[0], until)

    def look(self, outlets: Iterable[str], now: datetime | None = None) -> list[LeaseLook]:
        """The leases of `outlets` as they stand (one query per 500): who holds each, until
        when, and whether that holder's heartbeat runs. Outlets never leased are left out.
        What a standby instance asks, in one query, instead of trying to take each outlet."""
        now = now or utcnow()
        names = list(outlets)
        looks: list[LeaseLook] = []
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                "SELECT outlet, holder, expires_at, EXISTS (SELECT 1 FROM outlet_leases AS"
                " alive WHERE alive.outlet = ? || outlet_leases.holder AND alive.expires_at > ?),"
                f" polled_at FROM outlet_leases WHERE outlet IN ({marks})",
                (_INSTANCE, iso(now), *chunk),
            )
            looks.extend(
                LeaseLook(r[0], r[1], from_iso(r[2]), bool(r[3]), from_iso(r[4])) for r in rows
            )
        return looks

    def extend_outlet(self, outlet: str, holder: str, until: datetime) -> None:
        """Keep `holder`'s lease until `until` at least: its next poll comes later than the
        interval (backoff after failures, a feed asking for less traffic), and no other
        instance may poll the outlet meanwhile."""
        self.db.execute(
            "UPDATE outlet_leases SET expires_at = ? WHERE outlet = ? AND holder = ?"
            " AND expires_at < ?",
            (iso(until), outlet, holder, iso(until)),
        )

    def release_outlet(self, outlet: str, holder: str, now: datetime | None = None) -> None:
        """Let another instance take `outlet` from now on; the last poll still counts for its
        `min_gap_s`, so the outlet is not polled again sooner whoever takes it. The lease
        reads as run out since that poll, so no grace keeps it with its live holder."""
        self.db.execute(
            "UPDATE outlet_leases SET expires_at = CASE WHEN polled_at < ? THEN polled_at"
            " ELSE ? END WHERE outlet = ? AND holder = ?",
            (iso(now or utcnow()), iso(now or utcnow()), outlet, holder),
        )

    def heartbeat(self, holder: str, ttl_s: float, now: datetime | None = None) -> list[str]:
        """`holder` is alive for `ttl_s` more seconds; the instances alive now, by name."""
        now = now or utcnow()
        expires = iso(now + timedelta(seconds=ttl_s))
        self.db.execute(_HEARTBEAT, (_INSTANCE + holder, holder, iso(now), expires))
        rows = self.db.execute(
            "SELECT holder FROM outlet_leases WHERE outlet LIKE ? AND expires_at > ?"
            " ORDER BY holder",
            (_INSTANCE + "%", iso(now)),
        )
        return [r[0] for r in rows]

    def leave(self, holder: str) -> None:
        """`holder` stops: it no longer counts as alive (its leases run out as they would)."""
        self.db.execute("DELETE FROM outlet_leases WHERE outlet = ?", (_INSTANCE + holder,))

    def outlets_held(self, now: datetime | None = None) -> dict[str, int]:
        """Instance → how many outlets it holds a running lease on."""
        rows = self.db.execute(
            "SELECT holder, COUNT(*) FROM outlet_leases WHERE expires_at > ?"
            " AND outlet NOT LIKE ? GROUP BY holder ORDER BY holder",
            (iso(now or utcnow()), _NOT_AN_OUTLET),
        )
        return {r[0]: r[1] for r in rows}

    def polls_of(self, outlet: str) -> tuple[str, datetime] | None:
        """(holder, last poll) of an outlet's lease, if it was ever taken."""
        row = self.db.execute(
            "SELECT holder, polled_at FROM outlet_leases WHERE outlet = ?", (outlet,)
        ).fetchone()
        return None if row is None else (row[0], from_iso(row[1]))

    def claim_digest(self, notifier: str, fire_at: datetime, holder: str) -> bool:
        """True for the one instance that sends this digest's send scheduled at `fire_at`."""
        row = self.db.execute(
            "INSERT INTO digest_runs VALUES (?,?,?) ON CONFLICT DO NOTHING RETURNING holder",
            (notifier, iso(fire_at), holder),
        ).fetchone()
        return row is not None
