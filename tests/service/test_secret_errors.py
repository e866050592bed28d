"""A receiver's URL is a secret (Discord, Teams and Zapier keep the token in its path, Slack
in its webhook URL): a failing delivery names only `scheme://host/…`, in the result, the
outbox row, the decisions, /healthz and `wirewatch outbox`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
from types import SimpleNamespace

import pytest

from tests.fixtures import webhook_receiver as receiver_fixtures
from tests.fixtures.configs import service_config, sqlite, watch_entry, webhook_notifier
from tests.fixtures.outbox_data import enqueue, make_story
from tests.fixtures.process import get_json
from wirewatch.cli.main import main
from wirewatch.delivery.worker import DeliveryWorker
from wirewatch.notifiers import SlackWebhookNotifier, WebhookNotifier
from wirewatch.service.server import start_server
from wirewatch.store import Store

webhook_receiver = receiver_fixtures.webhook_receiver

TOKEN = "T0KEN-abcdef1234567890-in-the-path"


class StandIn:
    """What /healthz reads of a service: a store and a delivery worker (not started)."""

    def __init__(self, store: Store, delivery: DeliveryWorker) -> None:
        self.store = store
        self.delivery = delivery
        self.started = asyncio.Event()
        self.started.set()
        self.scheduler_running = False
        self.scheduler = None
        self.last_successful_poll = None
        self.loop_lag_s = 0.0
        self.config = SimpleNamespace(server=None)  # no dashboard on its server
        self.slack_verifiers: dict = {}


def free_port() -> int:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def fail_once(tmp_path, notifier, url_in_config: str) -> dict[str, str]:
    """One delivery to `notifier` that fails; everything that shows its error."""
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1", title="Attacks in Quetta", watch="balochistan-attacks")
    enqueue(store, sid, "siem", "new_story", "a-1", 1)
    delivery = DeliveryWorker(store, {"siem": notifier})
    await delivery.deliver_due()
    await notifier.close()
    [row] = store.outbox.rows()
    decisions = json.dumps(store.decisions.of(sid), ensure_ascii=False)

    runner = await start_server(StandIn(store, delivery), "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        _, health = await get_json(f"http://{host}:{port}/healthz")
    finally:
        await runner.cleanup()
        store.close()

    config = service_config(
        tmp_path,
        name="w.yaml",
        storage=sqlite(tmp_path / "w.db"),
        watches=[watch_entry("balochistan-attacks", "coordinated attacks", notify=["siem"])],
        notifiers=[webhook_notifier(url_in_config)],
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["outbox", "-c", str(config)]) == 0
    return {
        "result": delivery.last_errors["siem"],
        "outbox row": row.last_error or "",
        "decisions": decisions,
        "/healthz": json.dumps(health, ensure_ascii=False),
        "wirewatch outbox": out.getvalue(),
    }


@pytest.mark.parametrize("answer", ["500", "refused"])
async def test_a_token_in_a_webhook_path_is_shown_nowhere(webhook_receiver, tmp_path, answer):
    if answer == "500":
        webhook_receiver.respond_next(status=500, body=f"no route /api/webhooks/42/{TOKEN}")
        base = f"http://127.0.0.1:{webhook_receiver.port}"
    else:
        base = f"http://127.0.0.1:{free_port()}"
    url = f"{base}/api/webhooks/42/{TOKEN}"
    notifier = WebhookNotifier(SimpleNamespace(name="siem", url=url, secret=None, timeout=5))

    shown = await fail_once(tmp_path, notifier, url)

    for where, text in shown.items():
        assert TOKEN not in text and "webhooks/42" not in text, where
    assert shown["result"].startswith(f"{base}/…") or f"reach {base}/…" in shown["result"]
    assert shown["outbox row"] == shown["result"]
    assert f"{base}/…" in shown["/healthz"] and f"{base}/…" in shown["wirewatch outbox"]


async def test_a_malformed_slack_webhook_url_is_shown_nowhere(tmp_path):
    url = "https://[hooks.slack.com/services/T0ABC/B0DEF/s3cretWebhookToken"
    notifier = SlackWebhookNotifier(SimpleNamespace(name="siem", url=url))

    shown = await fail_once(tmp_path, notifier, "https://hooks.slack.com/services/T0/B0/other1")

    for where, text in shown.items():
        assert "s3cretWebhookToken" not in text and "T0ABC" not in text, where
    assert "not a valid URL" in shown["/healthz"] and "not a valid URL" in shown["wirewatch outbox"]
