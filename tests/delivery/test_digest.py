"""Email digests through a real SMTP server: exactly what was queued since the last one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.outbox_data import Clock, enqueue, make_story
from wirewatch.delivery.digest import DigestScheduler, DigestSender
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.store import Store

HOSTILE = 'Attack <script>alert(1)</script>\r\nBcc: victim@example.org & "more"'


def sender_for(store: Store, config, *, clock=None, tls_context=None) -> DigestSender:
    notifier = EmailDigestNotifier(config, tls_context=tls_context)
    return DigestSender(store, {config.name: notifier}, **({"clock": clock} if clock else {}))


def body(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "w.db")
    yield store
    store.close()


async def test_one_digest_lists_every_story_once_and_the_next_repeats_nothing(store, smtp_server):
    config = smtp_server.notifier_config()
    first = make_story(store, "a-1", "a-2", title="Coordinated attacks in Quetta")
    second = make_story(store, "b-1", title="Mobile internet suspended", watch="shutdowns")
    enqueue(store, first, config.name, "new_story", "a-1", 1)
    enqueue(store, first, config.name, "story_update", "a-2", 2)
    enqueue(store, second, config.name, "new_story", "b-1", 3)
    sender = sender_for(store, config)

    report = await sender.send(config.name)

    assert report.sent and report.alerts == 3
    [message] = smtp_server.messages
    assert message["Subject"] == "wirewatch digest: 2 new stories"
    assert smtp_server.envelopes == [("wirewatch@example.org", ["soc@example.org"])]
    text, html = body(message, "plain"), body(message, "html")
    for part in (text, html):
        assert part.count("Coordinated attacks in Quetta (a-1)") == 1
        assert "Coordinated attacks in Quetta (a-2)" in part
        assert "Mobile internet suspended (b-1)" in part
    assert text.index("shutdowns (1 story)") < text.index("w (1 story)")  # by watch name
    assert not store.outbox.pending(config.name)

    assert not (await sender.send(config.name)).sent  # nothing new: no empty digest
    assert len(smtp_server.messages) == 1


async def test_updates_after_a_digest_go_into_the_next_one_only(store, smtp_server):
    config = smtp_server.notifier_config()
    sid = make_story(store, "a-1", "a-2")
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    sender = sender_for(store, config)
    await sender.send(config.name)
    enqueue(store, sid, config.name, "story_update", "a-2", 2)
    await sender.send(config.name)

    first, second = smtp_server.messages
    assert "(a-2)" not in body(first, "plain")
    assert "(a-1)" not in body(second, "plain") and "(a-2)" in body(second, "plain")
    assert second["Subject"] == "wirewatch digest: 1 update"


async def test_hostile_headlines_are_escaped_and_reach_no_header(store, smtp_server):
    config = smtp_server.notifier_config()
    sid = make_story(store, "a-1", title=HOSTILE)
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    await sender_for(store, config).send(config.name)

    [message] = smtp_server.messages
    assert message["Bcc"] is None
    assert smtp_server.envelopes[0][1] == ["soc@example.org"]
    html = body(message, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Bcc: victim@example.org &amp; &#34;more&#34;" in html
    assert "\r\nBcc" not in body(message, "plain")  # newlines collapsed in headlines


async def test_a_refused_send_keeps_everything_for_the_retry(store, smtp_server):
    config = smtp_server.notifier_config()
    sid = make_story(store, "a-1")
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    sender = sender_for(store, config)
    smtp_server.fail_next(1, code=451)

    failed = await sender.send(config.name)
    assert not failed.sent and "451" in failed.error and failed.retry_in_s is not None
    assert len(store.outbox.pending(config.name)) == 1

    assert (await sender.send(config.name)).sent
    assert len(smtp_server.messages) == 1


async def test_a_permanent_refusal_is_dead_lettered_not_dropped(store, smtp_server):
    config = smtp_server.notifier_config()
    sid = make_story(store, "a-1")
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    smtp_server.fail_next(1, code=554)

    report = await sender_for(store, config).send(config.name)

    assert report.retry_in_s is None
    [row] = store.outbox.rows("dead")
    assert "554" in row.last_error


async def test_an_unreachable_server_is_a_retryable_error(store, smtp_server):
    config = smtp_server.notifier_config(port=1)  # nothing listens there
    sid = make_story(store, "a-1")
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    report = await sender_for(store, config).send(config.name)
    assert not report.sent and "cannot reach 127.0.0.1:1" in report.error
    assert report.retry_in_s is not None


async def test_starttls_with_login(store, smtp_tls_server):
    config = smtp_tls_server.notifier_config()
    sid = make_story(store, "a-1")
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    sender = sender_for(store, config, tls_context=smtp_tls_server.client_context)
    assert (await sender.send(config.name)).sent
    assert len(smtp_tls_server.messages) == 1


# aiosmtpd cannot tell that an implicit-TLS connection is encrypted, hence its warning.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_with_login(store, smtp_implicit_tls_server):
    server = smtp_implicit_tls_server
    config = server.notifier_config()
    assert config.tls and not config.starttls
    sid = make_story(store, "a-1")
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    sender = sender_for(store, config, tls_context=server.client_context)
    report = await sender.send(config.name)
    assert report.sent, report.error
    assert len(server.messages) == 1


async def test_wrong_password_is_a_permanent_error(store, smtp_tls_server):
    config = smtp_tls_server.notifier_config(password="wrong")
    sid = make_story(store, "a-1")
    enqueue(store, sid, config.name, "new_story", "a-1", 1)
    sender = sender_for(store, config, tls_context=smtp_tls_server.client_context)
    report = await sender.send(config.name)
    assert not report.sent and "535" in report.error
    assert not smtp_tls_server.messages


async def test_empty_digests_go_out_only_when_asked(store, smtp_server):
    config = smtp_server.notifier_config(send_empty=True)
    assert (await sender_for(store, config).send(config.name)).sent
    [message] = smtp_server.messages
    assert message["Subject"] == "wirewatch digest: no new stories"


async def test_the_schedule_follows_the_cron_expression_in_its_timezone(store, smtp_server):
    config = smtp_server.notifier_config(schedule="0 7 * * *", timezone="Asia/Karachi")
    scheduler = DigestScheduler(sender_for(store, config, clock=Clock()), [config])
    scheduler.start()
    try:
        when = scheduler.next_run(config.name)
        assert (when.hour, when.minute) == (7, 0)
        assert when.utcoffset() == timedelta(hours=5)
    finally:
        scheduler.shutdown()


def test_a_late_run_is_for_the_slot_it_was_scheduled_for(store, smtp_server):
    """Instances whose cron jobs run minutes apart (a busy loop, within the misfire grace)
    claim the same slot, so one of them sends that digest; the next slot is another claim."""
    config = smtp_server.notifier_config(schedule="0 7 * * *", timezone="Asia/Karachi")
    scheduler = DigestScheduler(sender_for(store, config, clock=Clock()), [config])
    slot = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 07:00 in Karachi
    on_time, late = slot + timedelta(seconds=3), slot + timedelta(minutes=7, seconds=40)
    assert scheduler.due(config.name, on_time) == scheduler.due(config.name, late) == slot
    assert scheduler.due(config.name, slot + timedelta(days=1, minutes=2)) == slot + timedelta(
        days=1
    )


async def test_an_article_arriving_while_a_digest_is_sent_waits_for_the_next_one(
    store, smtp_server
):
    """Rows taken for a digest are closed to newcomers before the SMTP conversation starts:
    a report that comes in meanwhile must not be marked delivered without being sent."""
    config = smtp_server.notifier_config()
    sid = make_story(store, "a-1")
    store.outbox.enqueue(
        delivery_id="d-1",
        notifier=config.name,
        story_id=sid,
        kind="new_story",
        article_ids=["a-1"],
        not_before=datetime.now(UTC) + timedelta(minutes=30),  # still in its update interval
    )
    notifier = EmailDigestNotifier(config)
    seen_during_send = []
    original = notifier.send_message

    async def send_message(message):
        seen_during_send.append(store.outbox.waiting_alert(sid, config.name, datetime.now(UTC)))
        return await original(message)

    notifier.send_message = send_message
    assert (await DigestSender(store, {config.name: notifier}).send(config.name)).sent
    assert seen_during_send == [None]
