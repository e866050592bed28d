"""A 10-minute outage of Slack, the webhook receiver or SMTP: afterwards every pending alert
goes out once, in order, within a minute of recovery.

The receivers are real (slack-sdk against the local Slack API, aiohttp against the local
webhook receiver that checks signatures, aiosmtplib against aiosmtpd). Time is the
test's clock: the worker is driven the way `DeliveryWorker.run` drives it, one pass per
second of that clock, so ten minutes take well under a second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import SimpleNamespace

from tests.fixtures import webhook_receiver as receiver_fixtures
from tests.fixtures.outbox_data import Clock, enqueue, make_story
from wirewatch.delivery.digest import DigestSender
from wirewatch.delivery.worker import DeliveryWorker
from wirewatch.notifiers import SlackNotifier, WebhookNotifier
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.notifiers.slack import ChannelPacer
from wirewatch.store import Store

webhook_receiver = receiver_fixtures.webhook_receiver
OUTAGE = timedelta(minutes=10)
RECOVERY_LIMIT = timedelta(minutes=1)
SECRET = "whsec-outage"


def queue_three_alerts(store: Store, notifier: str) -> list[str]:
    """Story 1 (new + one update) and story 2 (new), queued in this order."""
    first, second = make_story(store, "a-1", "a-2"), make_story(store, "b-1", title="Blackout")
    enqueue(store, first, notifier, "new_story", "a-1", 1)
    enqueue(store, first, notifier, "story_update", "a-2", 2)
    enqueue(store, second, notifier, "new_story", "b-1", 3)
    return ["d-1", "d-2", "d-3"]


async def ride_out(
    worker: DeliveryWorker,
    clock: Clock,
    *,
    go_down: Callable[[], Awaitable[None]],
    come_back: Callable[[], Awaitable[None]],
) -> timedelta:
    """Outage for OUTAGE, then recovery; how long after recovery the outbox was empty."""
    await go_down()
    end = clock.now + OUTAGE
    while clock.now < end:
        await worker.deliver_due()
        clock.now += timedelta(seconds=1)
    assert worker.pending() == 3, "nothing is lost or dead-lettered during the outage"
    await come_back()
    recovered = clock.now
    while worker.pending() and clock.now - recovered <= 2 * RECOVERY_LIMIT:
        await worker.deliver_due()
        clock.now += timedelta(seconds=1)
    return clock.now - recovered


async def test_slack_outage(slack_api, tmp_path):
    store, clock = Store(tmp_path / "w.db"), Clock()
    queue_three_alerts(store, "soc-slack")

    async def advance(seconds: float) -> None:  # the pacer waits on the test's clock
        clock.now += timedelta(seconds=seconds)

    pacer = ChannelPacer(1.0, clock=lambda: clock.now.timestamp(), sleep=advance)
    config = SimpleNamespace(
        name="soc-slack", token=slack_api.token, channel="#soc", base_url=slack_api.base_url
    )
    worker = DeliveryWorker(store, {"soc-slack": SlackNotifier(config, pacer=pacer)}, clock=clock)

    async def down() -> None:
        slack_api.down = True

    async def up() -> None:
        slack_api.down = False

    took = await ride_out(worker, clock, go_down=down, come_back=up)

    assert took <= RECOVERY_LIMIT
    posts_while_down = [c for c in slack_api.calls if c.method == "chat.postMessage" and not c.ok]
    assert len(posts_while_down) <= 30, "one retry at a time, backing off: no storm"
    first, second = slack_api.posts
    assert first.text.startswith("New story (w): Attacks") and "Blackout" in second.text
    [reply] = slack_api.replies
    assert reply.thread_ts == first.ts  # the update threads under its parent, posted once
    successful = [c for c in slack_api.calls if c.ok and c.method == "chat.postMessage"]
    assert [c.ts for c in successful] == [first.ts, reply.ts, second.ts]  # in queue order
    assert store.outbox.counts() == {"pending": 0, "delivered": 3, "dead": 0}


async def test_webhook_receiver_outage(webhook_receiver, tmp_path):
    store, clock = Store(tmp_path / "w.db"), Clock()
    ids = queue_three_alerts(store, "siem")
    config = SimpleNamespace(name="siem", url=webhook_receiver.url, secret=SECRET, timeout=2.0)
    webhook_receiver.secret = SECRET
    notifier = WebhookNotifier(config)
    worker = DeliveryWorker(store, {"siem": notifier}, clock=clock)
    try:
        took = await ride_out(
            worker, clock, go_down=webhook_receiver.stop, come_back=webhook_receiver.start
        )
    finally:
        await notifier.close()

    assert took <= RECOVERY_LIMIT
    received = [r.json() for r in webhook_receiver.verified]
    assert [r["delivery_id"] for r in received] == ids  # each once, in order, signed
    assert [r["kind"] for r in received] == ["new_story", "story_update", "new_story"]
    assert [r.headers["Idempotency-Key"] for r in webhook_receiver.verified] == ids


async def test_smtp_outage_delays_the_digest_by_less_than_a_minute(smtp_server, tmp_path):
    store, clock = Store(tmp_path / "w.db"), Clock()
    config = smtp_server.notifier_config()
    queue_three_alerts(store, config.name)
    sender = DigestSender(store, {config.name: EmailDigestNotifier(config)}, clock=clock)

    await smtp_server.stop()
    end = clock.now + OUTAGE
    while clock.now < end:  # the scheduler's retries: each after the backoff it was given
        report = await sender.send(config.name)
        assert not report.sent and report.retry_in_s is not None
        assert report.retry_in_s <= 30
        clock.now += timedelta(seconds=report.retry_in_s)
        if clock.now > end - timedelta(minutes=5) and len(store.outbox.pending()) == 3:
            later = make_story(store, "c-1", title="Train attacked")  # news during the outage
            enqueue(store, later, config.name, "new_story", "c-1", 4)
    overshoot = clock.now - end  # the retry that first finds SMTP back
    await smtp_server.start()

    assert (await sender.send(config.name)).sent
    assert overshoot <= RECOVERY_LIMIT
    [message] = smtp_server.messages
    assert message["Subject"] == "wirewatch digest: 3 new stories"  # with the one queued late
    assert not store.outbox.pending() and store.outbox.counts()["dead"] == 0
    assert not (await sender.send(config.name)).sent  # nothing repeats
