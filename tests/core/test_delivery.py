"""The outbox worker: in order, once, retried with backoff, dead-lettered when hopeless."""

from datetime import timedelta

from tests.fixtures.outbox_data import Clock, enqueue, make_story
from wirewatch.delivery import DeliveryWorker, backoff_delay
from wirewatch.models import Alert, DeliveryResult
from wirewatch.store import Store


class ScriptedReceiver:
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
    assert not store.pending_deliveries()


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
    dead = store.outbox_rows("dead")
    assert [(r.delivery_id, r.last_error) for r in dead] == [("d-1", "HTTP 404")]
    assert len(slack.sent) == 1


async def test_alert_failing_past_the_deadline_is_dead_lettered(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)
    clock = Clock()
    clock.now += timedelta(hours=25)
    slack = ScriptedReceiver("slack", [DeliveryResult.failure("HTTP 500", retryable=True)])
    worker = DeliveryWorker(store, {"slack": slack}, clock=clock, dead_after_s=24 * 3600)
    await worker.deliver_due()
    assert [r.status for r in store.outbox_rows()] == ["dead"]


async def test_a_notifier_that_raises_keeps_the_alert(tmp_path):
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1")
    enqueue(store, sid, "slack", "new_story", "a-1", 1)

    class Broken(ScriptedReceiver):
        async def send(self, alert, thread_ref):
            raise KeyError("bug")

    worker = DeliveryWorker(store, {"slack": Broken("slack")})
    assert await worker.deliver_due() == 0
    [row] = store.pending_deliveries()
    assert row.attempts == 1 and "KeyError" in row.last_error


def test_backoff_grows_is_capped_and_respects_retry_after():
    assert backoff_delay(0, None) <= backoff_delay(10, None) <= 300
    assert backoff_delay(0, 42) >= 42
