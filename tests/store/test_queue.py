"""The shared article queue (PostgreSQL): claims never wait for each other, a claim lives as
long as its transaction (a dead instance's articles wait again), an article waits once."""

from datetime import UTC, datetime

import psycopg
import pytest

from wirewatch.models import Article
from wirewatch.store import Store

T0 = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)


def articles(count: int, outlet: str = "dawn") -> list[Article]:
    return [
        Article(
            id=f"{outlet}/{n}", outlet=outlet, title=f"Report {n}", text=f"Text of report {n}.",
            published=T0, url=f"https://{outlet}.example.org/{n}", language="en",
            text_source="feed", entry_key=f"k{n}",
        )
        for n in range(count)
    ]  # fmt: skip


def close(*stores: Store) -> None:
    for store in stores:
        store.close()


def test_an_article_waits_once_and_comes_back_as_it_was_queued(pg_database):
    store = Store(pg_database)
    store.queue.enqueue(articles(3), "a")
    store.queue.enqueue(articles(2), "b")  # polled again (by another instance): not twice
    assert store.queue.depth() == 3
    with store.transaction():
        assert store.queue.claim(10) == articles(3)  # oldest first, every field kept
        store.queue.remove([a.id for a in articles(3)])
    assert store.queue.depth() == 0
    store.close()


def test_two_instances_claim_disjoint_batches_without_waiting(pg_database):
    a, b = Store(pg_database), Store(pg_database)
    a.queue.enqueue(articles(5), "a")
    with a.transaction(), b.transaction():
        first = a.queue.claim(3)
        second = b.queue.claim(3)  # skips a's rows, does not wait for them
        assert [x.id for x in first] == ["dawn/0", "dawn/1", "dawn/2"]
        assert [x.id for x in second] == ["dawn/3", "dawn/4"]
    close(a, b)


def test_a_claim_dies_with_its_instance_and_its_articles_wait_again(pg_database):
    a, b = Store(pg_database), Store(pg_database)
    a.queue.enqueue(articles(4), "a")
    batch = a.transaction()
    batch.__enter__()  # a batch begins: a's transaction holds its claim ...
    assert len(a.queue.claim(4)) == 4
    with b.transaction():
        assert b.queue.claim(4) == []  # ... and no other instance can take those articles
    a.db.conn.close()  # the process dies mid-batch: its connection goes with it
    with b.transaction():
        taken = b.queue.claim(4)
        b.queue.remove([x.id for x in taken])
    assert [x.id for x in taken] == [x.id for x in articles(4)]
    assert b.queue.depth() == 0
    with pytest.raises(psycopg.OperationalError):  # what the dead one held never commits
        batch.__exit__(None, None, None)
    b.close()


def test_a_failed_batch_is_rolled_back_and_its_articles_wait_again(pg_database):
    store = Store(pg_database)
    store.queue.enqueue(articles(2), "a")
    try:
        with store.transaction():
            store.queue.claim(2)
            store.queue.remove(["dawn/0", "dawn/1"])
            raise RuntimeError("matching failed")
    except RuntimeError:
        pass
    assert store.queue.depth() == 2
    store.close()
