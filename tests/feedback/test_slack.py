"""Slack's feedback buttons, through the real slack-sdk against the local Slack server.

Socket Mode: the real `SocketModeClient` (aiohttp) opens its connection with
apps.connections.open, gets `hello`, acknowledges each click's envelope within 3 s, and
reconnects when the server drops the socket or says `disconnect`. Request-URL mode: the
service's /slack/actions refuses a request without a valid signature.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlencode

import aiohttp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.process import eventually
from tests.fixtures.slack_api import block_action as click
from tests.fixtures.slack_api import sample_alert
from tests.store.test_feedback import stored_article
from wirewatch import defaults
from wirewatch.feedback import Feedback, FeedbackLearner
from wirewatch.feedback.slack import SlackFeedback, start_slack_feedback
from wirewatch.models import WatchMatch
from wirewatch.notifiers.slack import ChannelPacer, SlackNotifier
from wirewatch.rules.encoder import Encoder
from wirewatch.store import Store

pytestmark = pytest.mark.slow
WATCH = "balochistan-attacks"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def encoder():
    encoder = Encoder(defaults.MODEL_NAME)
    encoder.load()
    yield encoder
    encoder.close()


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "w.db")
    stored_article(store, "a-0")
    story = store.stories.create(
        watch=WATCH, title="Militants strike army camps", seen=datetime.now(UTC), regions=[],
        places=[], score=0.7, centroid=np.zeros(4),
    )  # fmt: skip
    store.articles.add_match("a-0", WatchMatch(WATCH, True, 0.7, 0.4, "evidence"), story)
    yield store
    store.close()


def slack_config(slack_api, **settings):
    return SimpleNamespace(
        name="soc-slack", type="slack", token=slack_api.token, channel="#security-alerts",
        base_url=slack_api.base_url, **settings,
    )  # fmt: skip


async def post_alert(slack_api, **settings):
    notifier = SlackNotifier(slack_config(slack_api, **settings), pacer=ChannelPacer(0))
    result = await notifier.send(sample_alert(story_id="s-1"), None)
    assert result.ok
    [message] = slack_api.posts
    return notifier, message


async def test_socket_mode_clicks_are_acked_judged_shown_and_survive_a_dropped_socket(
    slack_api, store, encoder
):
    notifier, message = await post_alert(slack_api, app_token=slack_api.app_token)
    labels = [
        e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert labels == ["Relevant", "Not relevant", "Mute this story for a while"]
    matcher = SimpleNamespace(encoder=encoder, feedback=None)
    feedback = Feedback(store, FeedbackLearner(store), lambda: matcher, lambda: [WATCH])
    config = slack_config(slack_api, app_token=slack_api.app_token, signing_secret=None)
    listeners, _ = await start_slack_feedback([config], {"soc-slack": notifier}, feedback)
    try:
        await eventually(lambda: slack_api.sockets, what="the Socket Mode connection")
        envelope = await slack_api.interact(click(message, "wirewatch-not-relevant"))
        await eventually(lambda: envelope in slack_api.acks, within=3, what="the ack")
        assert slack_api.ack_times[envelope] < 3.0
        [judgement] = await eventually(store.feedback.list, what="the judgement")
        assert (judgement.article_id, judgement.watch, judgement.relevant) == ("a-0", WATCH, False)
        assert (judgement.who, judgement.source, judgement.story_id) == ("ayesha", "slack", "s-1")
        await eventually(lambda: message.edits, what="chat.update")
        assert "Judged not relevant by ayesha (#1" in json.dumps(message.blocks)
        assert matcher.feedback is not None and len(matcher.feedback) == 1, "the watch adapted"

        for disconnect in (False, True):  # the socket dropped, then Slack's `disconnect`
            opened = slack_api.connections
            await slack_api.drop_sockets(disconnect=disconnect)
            await eventually(
                lambda opened=opened: slack_api.connections > opened, within=30, what="reconnect"
            )
            await eventually(lambda: slack_api.sockets, what="the new connection")
        envelope = await slack_api.interact(click(message, "wirewatch-mute", user="bilal"))
        await eventually(lambda: envelope in slack_api.acks, within=3, what="the ack")
        [silence] = await eventually(store.silences.all, what="the silence")
        assert silence.story_id == "s-1" and silence.created_by == "bilal"
        await eventually(lambda: "muted" in json.dumps(message.blocks), what="the update")
    finally:
        for listener in listeners:
            await listener.close()
        await notifier.close()


def signed(body: bytes, secret: str = SIGNING_SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = str(at or int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def test_request_url_mode_refuses_a_bad_signature_and_judges_a_signed_click(
    slack_api, store, encoder
):
    from aiohttp import web

    from wirewatch.feedback.slack import ACTIONS_PATH
    from wirewatch.service.server import build_app

    notifier, message = await post_alert(slack_api, signing_secret=SIGNING_SECRET)
    matcher = SimpleNamespace(encoder=encoder, feedback=None)
    feedback = Feedback(store, FeedbackLearner(store), lambda: matcher, lambda: [WATCH])
    config = slack_config(slack_api, app_token=None, signing_secret=SIGNING_SECRET)
    _, verifiers = await start_slack_feedback([config], {"soc-slack": notifier}, feedback)
    service = SimpleNamespace(slack_verifiers=verifiers, config=SimpleNamespace(server=None))
    app = build_app(service)  # server.listen's routes (no dashboard here: tests/dashboard)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{ACTIONS_PATH}"
    body = urlencode({"payload": json.dumps(click(message, "wirewatch-relevant"))}).encode()
    try:
        async with aiohttp.ClientSession() as session:
            for headers in (
                signed(body, secret="not-the-secret-not-the-secret!!"),
                signed(body, at=int(time.time()) - 3600),  # replayed an hour later
                {"Content-Type": "application/x-www-form-urlencoded"},
            ):
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 401
            assert store.feedback.list() == []
            async with session.post(url, data=body, headers=signed(body)) as response:
                assert response.status == 200
        [judgement] = await eventually(store.feedback.list, what="the judgement")
        assert judgement.relevant and judgement.source == "slack"
        await eventually(lambda: "Judged relevant by ayesha" in json.dumps(message.blocks))

        edits = message.edits  # a new source: the parent is rendered again, the line kept
        update = sample_alert("story_update", story_id="s-1", outlets=("reuters",), known=1)
        assert (await notifier.send(update, message.ts)).ok
        assert message.edits == edits + 1 and "2 sources" in json.dumps(message.blocks)
        assert "Judged relevant by ayesha" in json.dumps(message.blocks)
    finally:
        await runner.cleanup()
        await notifier.close()


async def test_no_buttons_without_a_way_to_receive_their_clicks(slack_api):
    notifier, message = await post_alert(slack_api, app_token=None, signing_secret=None)
    await notifier.close()
    assert all(block["type"] != "actions" for block in message.blocks)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
hostile_payloads = st.fixed_dictionaries(
    {"type": st.just("block_actions")},
    optional={
        "user": json_values,
        "channel": json_values,
        "message": json_values,
        "actions": st.lists(
            st.fixed_dictionaries(
                {"action_id": st.sampled_from(["wirewatch-relevant", "wirewatch-mute", "x"])},
                optional={"value": st.text(max_size=40) | json_values.map(json.dumps)},
            )
            | json_values,
            max_size=3,
        )
        | json_values,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=hostile_payloads | json_values)
def test_a_hostile_click_payload_records_nothing_and_raises_nothing(tmp_path, payload):
    store = Store(tmp_path / "hostile.db")
    try:
        feedback = Feedback(store, FeedbackLearner(store), lambda: None, lambda: [WATCH])
        updates: list[dict] = []

        async def chat_update(**message) -> None:
            updates.append(message)

        handler = SlackFeedback(feedback, SimpleNamespace(chat_update=chat_update))  # type: ignore[arg-type]
        done = asyncio.run(handler.handle(payload))
        assert all(said.startswith("Not recorded:") for said in done)
        assert all("Not recorded:" in json.dumps(update["blocks"]) for update in updates)
        assert store.feedback.list() == [] and store.silences.all() == []
    finally:
        store.close()
