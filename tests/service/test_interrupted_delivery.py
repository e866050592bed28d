"""An alert whose sending was cut short (the process killed after Slack had answered, but
before the outbox commit) is looked up in Slack on the next start, not posted again.

Real store, real delivery worker, real slack-sdk against the local Slack Web API server.
The "first life" is the notifier sending after `mark_sending` with nothing recorded after
it, which is exactly what a SIGKILL at that moment leaves in the database.
"""

from __future__ import annotations

from types import SimpleNamespace

from tests.fixtures.outbox_data import enqueue, make_story
from wirewatch.delivery.worker import DeliveryWorker, build_alert
from wirewatch.notifiers.slack import SlackNotifier
from wirewatch.store import Store


def slack(slack_api, channel: str = "#security-alerts") -> SlackNotifier:
    return SlackNotifier(
        SimpleNamespace(
            name="soc-slack", type="slack", token=slack_api.token, channel=channel,
            base_url=slack_api.base_url,
        )
    )  # fmt: skip


async def post_then_die(store: Store, notifier: SlackNotifier, thread_ref: str | None) -> None:
    """What a killed process did: marked the attempt, posted, and recorded nothing more."""
    [row] = [r for r in store.outbox.pending() if r.attempts == 0][:1]
    store.outbox.mark_sending(row.delivery_id)
    result = await notifier.send(build_alert(store, row), thread_ref)
    assert result.ok
    await notifier.close()


async def next_life(store: Store, slack_api) -> None:
    notifier = slack(slack_api)
    try:
        await DeliveryWorker(store, {"soc-slack": notifier}).deliver_due()
    finally:
        await notifier.close()


async def test_a_new_story_posted_just_before_a_kill_is_not_posted_again(slack_api, tmp_path):
    store = Store(tmp_path / "w.db")
    story = make_story(store, "a1", "a2")
    enqueue(store, story, "soc-slack", "new_story", "a1", 1)
    enqueue(store, story, "soc-slack", "story_update", "a2", 2)

    await post_then_die(store, slack(slack_api), None)
    await next_life(store, slack_api)

    [parent] = slack_api.posts
    assert [r.thread_ts for r in slack_api.replies] == [parent.ts]  # the update threads under it
    assert {r.status for r in store.outbox.rows()} == {"delivered"}
    assert store.outbox.story_ref(story, "soc-slack") == parent.ts


async def test_an_update_replied_just_before_a_kill_is_not_replied_again(slack_api, tmp_path):
    store = Store(tmp_path / "w.db")
    story = make_story(store, "a1", "a2")
    enqueue(store, story, "soc-slack", "new_story", "a1", 1)
    enqueue(store, story, "soc-slack", "story_update", "a2", 2)
    await next_life(store, slack_api)  # both delivered; now one more update is interrupted
    enqueue(store, story, "soc-slack", "story_update", "a1", 3)

    await post_then_die(store, slack(slack_api), store.outbox.story_ref(story, "soc-slack"))
    await next_life(store, slack_api)

    assert len(slack_api.posts) == 1
    assert len(slack_api.replies) == 2
    assert {r.status for r in store.outbox.rows()} == {"delivered"}


async def test_an_attempt_that_never_reached_slack_is_sent_once(slack_api, tmp_path):
    store = Store(tmp_path / "w.db")
    story = make_story(store, "a1")
    enqueue(store, story, "soc-slack", "new_story", "a1", 1)
    [row] = store.outbox.pending()
    store.outbox.mark_sending(row.delivery_id)  # killed before the request went out

    await next_life(store, slack_api)

    assert len(slack_api.posts) == 1
    assert [c.method for c in slack_api.calls] == [
        "conversations.list",
        "conversations.history",
        "chat.postMessage",
    ]
    assert store.outbox.story_ref(story, "soc-slack") == slack_api.posts[0].ts
