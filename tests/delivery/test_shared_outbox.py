"""Two instances on one PostgreSQL database deliver one outbox: each alert goes out once,
updates thread under their story's first message whichever instance sent it, and each
scheduled digest is sent by one of them."""

import asyncio
from types import SimpleNamespace

from tests.fixtures.outbox_data import enqueue, make_story
from wirewatch.delivery.digest import DigestScheduler, DigestSender
from wirewatch.delivery.worker import Claims, DeliveryWorker
from wirewatch.notifiers import SlackNotifier
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.notifiers.slack import ChannelPacer
from wirewatch.service.wiring import digest_claim
from wirewatch.store import Store


def slack(slack_api) -> SlackNotifier:
    config = SimpleNamespace(
        name="soc", token=slack_api.token, channel="#c", base_url=slack_api.base_url
    )
    return SlackNotifier(config, pacer=ChannelPacer(0))


async def test_two_instances_send_each_alert_once_and_keep_the_threads(slack_api, pg_database):
    a, b = Store(pg_database), Store(pg_database)
    n = 0
    for story in range(6):
        articles = [f"a-{story}-{i}" for i in range(3)]
        sid = make_story(a, *articles, title=f"Story {story}")
        for i, article in enumerate(articles):
            n += 1
            enqueue(a, sid, "soc", "story_update" if i else "new_story", article, n)
    workers = [
        DeliveryWorker(store, {"soc": slack(slack_api)}, claims=Claims(name))
        for store, name in ((a, "a"), (b, "b"))
    ]
    for _ in range(4):  # passes side by side until everything is out
        await asyncio.gather(*(w.deliver_due() for w in workers))

    assert a.outbox.counts() == {"pending": 0, "delivered": n, "dead": 0}
    assert len(slack_api.posts) + len(slack_api.replies) == n  # nothing sent twice
    assert len(slack_api.posts) == 6  # one first message per story
    parents = {p.ts for p in slack_api.posts}
    assert all(r.thread_ts in parents for r in slack_api.replies)
    assert {row[0] for row in a.execute("SELECT claimed_by FROM outbox")} == {None}


async def test_a_scheduled_digest_goes_out_once_from_two_instances(smtp_server, pg_database):
    """Both instances' cron jobs fire for the same digest: one of them sends it."""
    config = smtp_server.notifier_config()
    a, b = Store(pg_database), Store(pg_database)
    sid = make_story(a, "a-1", title="Coordinated attacks in Quetta")
    enqueue(a, sid, config.name, "new_story", "a-1", 1)
    schedulers = [
        DigestScheduler(
            DigestSender(store, {config.name: EmailDigestNotifier(config)}),
            [config],
            claim=digest_claim(store, name),
        )
        for store, name in ((a, "a"), (b, "b"))
    ]
    await asyncio.gather(*(s._scheduled(config.name) for s in schedulers))
    assert len(smtp_server.messages) == 1
    assert sum(len(s.reports) for s in schedulers) == 1
    assert not a.outbox.pending(config.name)
