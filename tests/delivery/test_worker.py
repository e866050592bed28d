"""The outbox worker: in order, once, retried with backoff, dead-lettered when hopeless."""

from datetime import timedelta
from types import SimpleNamespace

from tests.fixtures.outbox_data import Clock, enqueue, make_story
from wirewatch.delivery.retry import backoff_delay
from wirewatch.delivery.worker import DeliveryWorker
from wirewatch.models import Alert, DeliveryResult
from wirewatch.notifiers import SlackNotifier
from wirewatch.notifiers.base import Notifier
from wirewatch.notifiers.slack import ChannelPacer
from wirewatch.store import Store


class ScriptedReceiver(Notifier):
    """A receiver whose answers the test scripts; it records what it was sent."""

    def __init__(self, name: str, answers: list[DeliveryResult] | None = None):
        self.name = name
        self.answers = list(answers or [])
        self.sent: list[tuple[str, str, str | None]] = []  # (kind, delivery_id, thread_ref)

    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult:
        self.sent.append((alert.kind, alert.delivery_id, thread_ref))
        if self.answers:
            return self.answers.pop(0)
        return DeliveryResult.success(remote_ref=f"ts-{len(self.sent)}")


async def test_updates_thread_under_the_parent_and_nothing_repeats(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1", "a-2", "a-3")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)
    enqueue(store, sid, "slack", "story_update", "a-2", 2)
    enqueue(store, sid, "slack", "story_update", "a-3", 3)
    slack = ScriptedReceiver("slack")
    worker = DeliveryWorker(store, {"slack": slack})
    assert await worker.deliver_due() == 3
    assert slack.sent == [
        ("new_story", "d-1", None),
        ("story_update", "d-2", "ts-1"),
        ("story_update", "d-3", "ts-1"),
    ]
    assert await worker.deliver_due() == 0  # a second pass sends nothing again
    assert len(slack.sent) == 3


async def test_failure_holds_the_queue_in_order_and_retry_after_is_honoured(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1", "a-2")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)
    enqueue(store, sid, "slack", "story_update", "a-2", 2)
    slack = ScriptedReceiver(
        "slack", [DeliveryResult.failure("HTTP 429", retryable=True, retry_after=120)]
    )
    clock = Clock()
    worker = DeliveryWorker(store, {"slack": slack}, clock=clock)
    assert await worker.deliver_due() == 0
    assert [k for k, _, _ in slack.sent] == ["new_story"]  # the update did not overtake it
    assert worker.last_errors["slack"] == "HTTP 429"
    clock.now += timedelta(seconds=60)
    assert await worker.deliver_due() == 0  # still inside Retry-After
    clock.now += timedelta(seconds=61)
    assert await worker.deliver_due() == 2
    assert [k for k, _, _ in slack.sent] == ["new_story", "new_story", "story_update"]
    assert not store.outbox.pending()


async def test_permanent_failure_is_dead_lettered_and_does_not_block_others(tmp_path):
    store = Store(tmp_path / "w.db")
    first, second = make_story(store, "a-1"), make_story(store, "a-2")
    enqueue(store, first, "hook", "new_story", "a-1", 1)
    enqueue(store, second, "hook", "new_story", "a-2", 2)
    enqueue(store, first, "slack", "new_story", "a-1", 3)
    hook = ScriptedReceiver("hook", [DeliveryResult.failure("HTTP 404", retryable=False)])
    slack = ScriptedReceiver("slack")
    worker = DeliveryWorker(store, {"hook": hook, "slack": slack})
    assert await worker.deliver_due() == 2
    dead = store.outbox.rows("dead")
    assert [(r.delivery_id, r.last_error) for r in dead] == [("d-1", "HTTP 404")]
    assert len(slack.sent) == 1


async def test_alert_failing_for_longer_than_dead_after_is_dead_lettered(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)
    clock = Clock()
    clock.now += timedelta(hours=25)  # queued long ago (a stopped service): not failing yet
    down = [DeliveryResult.failure("HTTP 500", retryable=True)] * 2
    slack = ScriptedReceiver("slack", down)
    worker = DeliveryWorker(store, {"slack": slack}, clock=clock, dead_after_s=24 * 3600)
    await worker.deliver_due()
    assert [r.status for r in store.outbox.rows()] == ["pending"]
    clock.now += timedelta(hours=24)
    await worker.deliver_due()
    [row] = store.outbox.rows()
    assert row.status == "dead" and row.attempts == 2 and row.last_error == "HTTP 500"
    assert worker.dead() == 1
    [*_, last] = store.decisions.of(sid)
    assert last["decision"] == "dead" and "failing for too long" in last["reason"]


async def test_each_notifier_has_its_own_dead_after(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1")
    enqueue(store, sid, "hook", "new_story", "a-1", 1)
    hook = ScriptedReceiver("hook", [DeliveryResult.failure("HTTP 503", retryable=True)] * 2)
    hook.dead_after_s = 600
    clock = Clock()
    worker = DeliveryWorker(store, {"hook": hook}, clock=clock, dead_after_s=24 * 3600)
    await worker.deliver_due()
    clock.now += timedelta(minutes=11)
    await worker.deliver_due()
    assert [r.status for r in store.outbox.rows()] == ["dead"]


async def test_dead_letters_can_be_requeued_and_then_go_out_once(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1")
    enqueue(store, sid, "hook", "new_story", "a-1", 1)
    hook = ScriptedReceiver("hook", [DeliveryResult.failure("HTTP 400", retryable=False)])
    worker = DeliveryWorker(store, {"hook": hook})
    await worker.deliver_due()
    assert store.outbox.counts()["dead"] == 1

    assert store.outbox.requeue(["d-1", "d-unknown"]) == ["d-1"]
    assert await worker.deliver_due() == 1
    assert store.outbox.requeue(["d-1"]) == []  # delivered: never sent again
    assert await worker.deliver_due() == 0
    assert [kind for kind, _, _ in hook.sent] == ["new_story", "new_story"]


async def test_every_delivery_outcome_is_a_recorded_decision(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)
    clock = Clock()
    slack = ScriptedReceiver("slack", [DeliveryResult.failure("HTTP 503", retryable=True)])
    worker = DeliveryWorker(store, {"slack": slack}, clock=clock)
    await worker.deliver_due()
    clock.now += timedelta(minutes=1)
    await worker.deliver_due()
    trail = [(d["decision"], d["notifier"], d["reason"]) for d in store.decisions.of(sid)]
    assert trail == [
        ("retry", "slack", "new_story d-1 failed, will retry: HTTP 503"),
        ("delivered", "slack", "new_story d-1 delivered after 2 attempts"),
    ]


async def test_a_notifier_that_raises_keeps_the_alert(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)

    class Broken(ScriptedReceiver):
        async def send(self, alert, thread_ref):
            raise KeyError("bug")

    worker = DeliveryWorker(store, {"slack": Broken("slack")})
    assert await worker.deliver_due() == 0
    [row] = store.outbox.pending()
    assert row.attempts == 1 and "KeyError" in row.last_error


def test_backoff_grows_is_capped_and_respects_retry_after():
    assert backoff_delay(0, None) <= 5
    assert 15 <= backoff_delay(10, None) <= 30  # capped: an outage's end is noticed within 30 s
    assert 15 <= backoff_delay(100_000, None) <= 30
    assert backoff_delay(0, 42) >= 42


async def test_a_bad_slack_token_keeps_alerts_until_the_operator_fixes_it(slack_api, tmp_path):
    """invalid_auth: a clear error for /healthz and the log, nothing dead-lettered, and once
    the token is fixed (a reload builds a new notifier) everything goes out in order."""
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1", "a-2")
    enqueue(store, sid, "soc", "new_story", "a-1", 1)
    enqueue(store, sid, "soc", "story_update", "a-2", 2)
    clock = Clock()

    def slack(token: str) -> SlackNotifier:
        config = SimpleNamespace(name="soc", token=token, channel="#c", base_url=slack_api.base_url)
        return SlackNotifier(config, pacer=ChannelPacer(0))

    worker = DeliveryWorker(store, {"soc": slack("xoxb-typo")}, clock=clock)
    for _ in range(5):
        await worker.deliver_due()
        clock.now += timedelta(minutes=1)
    assert worker.last_errors["soc"].startswith("Slack rejected the token (invalid_auth)")
    assert [(r.status, r.attempts) for r in store.outbox.rows()] == [("pending", 5), ("pending", 0)]
    assert not slack_api.posts

    worker.notifiers = {"soc": slack(slack_api.token)}  # what a reload with the fixed token does
    await worker.deliver_due()

    assert [r.status for r in store.outbox.rows()] == ["delivered", "delivered"]
    assert "soc" not in worker.last_errors
    [parent] = slack_api.posts
    assert [r.thread_ts for r in slack_api.replies] == [parent.ts]


async def test_when_the_parent_was_dead_lettered_later_updates_thread_under_the_first(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1", "a-2", "a-3")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)
    enqueue(store, sid, "slack", "story_update", "a-2", 2)
    enqueue(store, sid, "slack", "story_update", "a-3", 3)
    slack = ScriptedReceiver("slack", [DeliveryResult.failure("invalid_blocks", retryable=False)])
    await DeliveryWorker(store, {"slack": slack}).deliver_due()
    assert slack.sent == [
        ("new_story", "d-1", None),
        ("story_update", "d-2", None),  # posted on its own, as an "Update:" message
        ("story_update", "d-3", "ts-2"),  # ... which the next update replies to
    ]
