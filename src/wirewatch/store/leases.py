"""Work shared between instances on one database: outlets leased to one instance at a
time, and each digest's scheduled send claimed by one instance.

An outlet's lease is taken by the poll itself (`take_outlet`): the instance that holds it
renews it with every poll, and any instance may take it once it has run out, which a live
holder never lets happen (it polls every interval; a lease lasts longer). So an outlet is
polled by one instance at a time, and a dead instance's outlets pass to the others when
their leases run out. No poll is granted sooner than `min_gap_s` after the last one, by
whichever instance (a late run of the scheduler followed by one on time, say). The row
lock of `ON CONFLICT DO UPDATE` decides between instances that try at the same moment.

Each instance also says it is alive (`heartbeat`): a row of its own among the leases, under
a name no outlet can have (outlet names hold no ":"), so that every instance knows how many
share the outlets and none keeps more than its share (`release_outlet`: the first to start
would otherwise keep every outlet it polled before the others were up).
"""

from __future__ import annotations

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


_TAKE_OUTLET = (
    "INSERT INTO outlet_leases (outlet, holder, polled_at, expires_at) VALUES (?,?,?,?)"
    " ON CONFLICT (outlet) DO UPDATE SET holder = excluded.holder,"
    " polled_at = excluded.polled_at, expires_at = excluded.expires_at"
    " WHERE (outlet_leases.holder = excluded.holder"
    " OR outlet_leases.expires_at <= excluded.polled_at) AND outlet_leases.polled_at <= ?"
    " RETURNING holder"
)


_INSTANCE = "wirewatch:instance:"  # heartbeat rows: outlet names cannot contain ":"
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
        now: datetime | None = None,
    ) -> OutletLease:
        """Take or renew `outlet` for a poll now, unless another instance's lease runs or
        the last poll was less than `min_gap_s` ago."""
        now = now or utcnow()
        expires = now + timedelta(seconds=lease_s)
        earliest = iso(now - timedelta(seconds=min_gap_s))
        params = (outlet, holder, iso(now), iso(expires), earliest)
        if self.db.execute(_TAKE_OUTLET, params).fetchone() is not None:
            return OutletLease(True, True, holder, expires)
        row = self.db.execute(
            "SELECT holder, expires_at FROM outlet_leases WHERE outlet = ?", (outlet,)
        ).fetchone()
        return OutletLease(False, row[0] == holder, row[0], from_iso(row[1]))

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
        `min_gap_s`, so the outlet is not polled again sooner whoever takes it."""
        self.db.execute(
            "UPDATE outlet_leases SET expires_at = ? WHERE outlet = ? AND holder = ?",
            (iso(now or utcnow()), outlet, holder),
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
