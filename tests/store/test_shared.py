"""Several instances on one database: outlet leases, outbox claims, digest claims (both
engines), and what only PostgreSQL gives: rows claimed without waiting (SKIP LOCKED),
advisory locks that serialize across connections, migrations run once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from wirewatch.store import Store
from wirewatch.store.migrations import MIGRATIONS, to_postgresql

T0 = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)


def take(store, outlet, holder, at_s, *, interval=60.0, grace=0.0):
    return store.leases.take_outlet(
        outlet, holder, lease_s=1.5 * interval, min_gap_s=0.9 * interval,
        grace_s=grace * interval, now=T0 + timedelta(seconds=at_s),
    )  # fmt: skip


def test_an_outlet_is_polled_by_its_holder_until_the_lease_runs_out(target):
    store = Store(target)
    assert take(store, "dawn", "a", 0).polls
    refused = take(store, "dawn", "b", 30)
    assert (refused.polls, refused.mine, refused.holder) == (False, False, "a")
    assert refused.expires_at == T0 + timedelta(seconds=90)
    assert take(store, "dawn", "a", 60).polls  # the holder renews: until 150 s
    assert not take(store, "dawn", "b", 120).polls
    assert take(store, "dawn", "b", 151).polls  # "a" died after its poll at 60 s
    assert not take(store, "dawn", "a", 160).polls  # "a" restarted as itself: b holds it now
    assert store.leases.outlets_held(now=T0 + timedelta(seconds=160)) == {"b": 1}


def test_no_poll_sooner_than_the_gap_even_by_the_holder(target):
    store = Store(target)
    assert take(store, "dawn", "a", 0).polls
    early = take(store, "dawn", "a", 50)  # a late run followed by one on time
    assert (early.polls, early.mine) == (False, True)
    assert take(store, "dawn", "a", 54).polls


def test_a_released_outlet_goes_to_another_instance_after_the_gap(target):
    store = Store(target)
    assert take(store, "dawn", "a", 0).polls
    store.leases.release_outlet("dawn", "a", now=T0 + timedelta(seconds=30))
    assert not take(store, "dawn", "b", 40).polls  # free, but polled 40 s ago: not yet
    assert take(store, "dawn", "b", 55).polls
    assert not take(store, "dawn", "a", 120).polls  # b holds it now
    assert store.leases.outlets_held(now=T0 + timedelta(seconds=120)) == {"b": 1}


def test_a_live_holder_keeps_its_outlet_a_grace_past_its_lease(target):
    """A busy instance polls late: while its heartbeat runs, its run-out lease stays its
    own for the grace (here half an interval), so its articles in flight are not read
    again by another instance; a dead or departed holder's lease passes when it runs out."""
    store = Store(target)
    store.leases.heartbeat("a", 600, now=T0)  # alive throughout
    assert take(store, "dawn", "a", 0, grace=0.5).polls  # runs out at 90 s
    refused = take(store, "dawn", "b", 95, grace=0.5)
    assert not refused.polls and refused.expires_at == T0 + timedelta(seconds=120)
    assert take(store, "dawn", "a", 110, grace=0.5).polls  # late, and still its own
    assert take(store, "dawn", "b", 231, grace=0.5).polls  # 200 s run out, grace over
    store.leases.heartbeat("b", 10, now=T0 + timedelta(seconds=231))
    assert take(store, "dusk", "b", 231, grace=0.5).polls
    store.leases.leave("b")  # a clean stop: no grace for its leases
    assert take(store, "dusk", "a", 322, grace=0.5).polls  # ran out at 321 s
    store.leases.release_outlet("dawn", "b", now=T0 + timedelta(seconds=300))
    assert take(store, "dawn", "a", 300, grace=0.5).polls  # released: no grace either


def test_a_look_at_the_leases_says_when_each_outlet_may_be_taken(target):
    """What a standby instance asks in one query agrees with what taking each would say."""
    store = Store(target)
    store.leases.heartbeat("a", 600, now=T0)  # "a" alive throughout, "c" never said so
    assert take(store, "dawn", "a", 0).polls and take(store, "dusk", "c", 0).polls
    at = T0 + timedelta(seconds=95)  # both leases ran out at 90 s
    looks = {look.outlet: look for look in store.leases.look(["dawn", "dusk", "noon"], now=at)}
    assert set(looks) == {"dawn", "dusk"}  # never leased: free, nothing to say
    assert looks["dawn"].free_at("b", grace_s=30) == T0 + timedelta(seconds=120)  # live: grace
    assert looks["dusk"].free_at("b", grace_s=30) == T0 + timedelta(seconds=90)  # dead: now
    assert looks["dawn"].free_at("a", grace_s=30) is None  # its own
    assert not take(store, "dawn", "b", 95, grace=0.5).polls
    assert take(store, "dusk", "b", 95, grace=0.5).polls
    assert take(store, "dawn", "b", 121, grace=0.5).polls
    # released at once after a poll: free for another, but not before the gap since that poll
    store.leases.release_outlet("dusk", "b", now=T0 + timedelta(seconds=96))
    (look,) = store.leases.look(["dusk"], now=T0 + timedelta(seconds=96))
    assert look.free_at("c", grace_s=30, min_gap_s=54) == T0 + timedelta(seconds=95 + 54)
    assert not take(store, "dusk", "c", 148).polls and take(store, "dusk", "c", 149).polls


def test_instances_alive_are_counted_until_they_leave_or_fall_silent(target):
    store = Store(target)
    at = [T0 + timedelta(seconds=s) for s in range(0, 60, 5)]
    assert store.leases.heartbeat("a", 10, now=at[0]) == ["a"]
    assert store.leases.heartbeat("b", 10, now=at[1]) == ["a", "b"]
    assert take(store, "dawn", "a", 6).polls  # heartbeats are no outlets
    assert store.leases.outlets_held(now=at[2]) == {"a": 1}
    assert store.leases.heartbeat("a", 10, now=at[3]) == ["a"]  # b silent for 10 s: gone
    store.leases.leave("a")
    assert store.leases.heartbeat("c", 10, now=at[4]) == ["c"]


def test_an_alert_is_claimed_by_one_instance_until_sent_or_its_claim_runs_out(target):
    store = Store(target)
    store.outbox.enqueue(
        delivery_id="d-1", notifier="slack", story_id="s-1", kind="new_story",
        article_ids=["a-1"], now=T0,
    )  # fmt: skip
    until = T0 + timedelta(seconds=60)
    mine = store.outbox.claim_row("d-1", "a", until=until, now=T0)
    assert mine is not None and mine.claimed_by is None  # the row as it was before
    assert store.outbox.claim_row("d-1", "b", until=until, now=T0) is None
    assert store.outbox.claims(now=T0) == {"a": 1}
    # "a" dies mid-send: once its claim runs out, "b" takes the alert
    later = T0 + timedelta(seconds=61)
    assert store.outbox.claim_row("d-1", "b", until=later + timedelta(seconds=60), now=later)
    store.outbox.mark_delivered("d-1", remote_ref="1.0", story_id="s-1", notifier="slack")
    assert store.outbox.claims(now=later) == {}
    assert store.outbox.claim_row("d-1", "a", until=later, now=later) is None  # sent: never again


def test_a_scheduled_digest_is_sent_by_one_instance(target):
    store = Store(target)
    due = T0.replace(hour=7)
    assert store.leases.claim_digest("morning", due, "a")
    assert not store.leases.claim_digest("morning", due, "b")
    assert store.leases.claim_digest("morning", due + timedelta(days=1), "b")


def test_postgresql_ddl_translation():
    ddl = "CREATE TABLE t (n INTEGER PRIMARY KEY AUTOINCREMENT, v BLOB, s REAL, k INTEGER)"
    assert to_postgresql(ddl) == (
        "CREATE TABLE t (n BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v BYTEA,"
        " s DOUBLE PRECISION, k BIGINT)"
    )
    assert to_postgresql("CREATE TABLE x (a TEXT) WITHOUT ROWID") == "CREATE TABLE x (a TEXT)"


# ---- PostgreSQL only: several connections at once ---------------------------------------------
def test_instances_started_together_migrate_once(pg_database):
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(Store, [pg_database] * 4))
    assert {s.schema_version for s in stores} == {len(MIGRATIONS)}
    for store in stores:
        store.close()


def test_a_claimed_row_is_skipped_not_waited_for(pg_database):
    a, b = Store(pg_database), Store(pg_database)
    a.outbox.enqueue(delivery_id="d-1", notifier="n", story_id="s-1", kind="new_story",
                     article_ids=["a-1"])  # fmt: skip
    now = datetime.now(UTC)
    with a.transaction():  # "a" is claiming it this very moment (its row lock is held)
        a.execute("SELECT * FROM outbox WHERE delivery_id = 'd-1' FOR UPDATE")
        started = time.monotonic()
        assert b.outbox.claim_row("d-1", "b", until=now + timedelta(seconds=60), now=now) is None
        assert time.monotonic() - started < 1.0


def test_story_lock_serializes_two_instances(pg_database):
    a, b = Store(pg_database), Store(pg_database)
    order: list[str] = []

    def second() -> None:
        with b.transaction():
            b.db.lock("wirewatch:stories:w")
            order.append(f"b sees {len(b.stories.open('w', since=T0))} stories")

    with a.transaction():
        a.db.lock("wirewatch:stories:w")
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)  # "b" waits for the lock meanwhile
        a.stories.create(watch="w", title="t", seen=T0, regions=[], places=[], score=0.6,
                         centroid=np.ones(4, dtype=np.float32) / 2)  # fmt: skip
        order.append("a committed")
    thread.join(10)
    assert order == ["a committed", "b sees 1 stories"]


def test_bad_postgresql_url_is_a_clear_error(postgres_server):
    with pytest.raises(Exception, match="does not exist"):
        Store(postgres_server.url("no_such_database"))


def test_a_dropped_connection_is_opened_again_and_a_broken_transaction_fails(pg_database):
    """The server drops the instance's connection (a restart, a failover): /healthz may see
    it once, then the store answers again with no restart of the instance; a transaction the
    drop broke fails as a whole and leaves nothing behind."""
    import psycopg

    store = Store(pg_database)

    def drop_connection() -> None:
        pid = store.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    drop_connection()
    answers = [store.reachable() for _ in range(2)]
    assert answers[-1], answers  # the first may fail; the next opens a new connection
    store.execute("CREATE TABLE kept (n INTEGER)")

    with pytest.raises(psycopg.OperationalError), store.transaction():
        store.execute("INSERT INTO kept VALUES (1)")
        drop_connection()
        store.execute("INSERT INTO kept VALUES (2)")
    assert store.execute("SELECT COUNT(*) FROM kept").fetchone()[0] == 0
    store.close()
