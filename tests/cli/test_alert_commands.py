"""`wirewatch stories`, `why`, `silence` and `outbox` as an operator uses them, on a real
database (run in-process: these commands load no model)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.configs import service_config, sqlite, watch_entry, webhook_notifier
from tests.fixtures.outbox_data import T0, enqueue, make_story
from wirewatch.alerts.silences import silence_covering
from wirewatch.cli.main import main
from wirewatch.delivery.worker import DeliveryWorker
from wirewatch.models import Article, DeliveryResult, WatchMatch
from wirewatch.notifiers.base import Notifier
from wirewatch.store import Store
from wirewatch.util import utcnow


@pytest.fixture
def config(tmp_path):
    path = service_config(
        tmp_path,
        name="w.yaml",
        storage=sqlite(tmp_path / "w.db"),
        watches=[watch_entry("balochistan-attacks", "coordinated attacks", notify=["siem"])],
        notifiers=[webhook_notifier("https://siem.example.org/hook")],
    )
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class Refusing(Notifier):
    name = "siem"

    async def send(self, alert, thread_ref):
        return DeliveryResult.failure("HTTP 400 Bad Request: unknown field", retryable=False)


async def dead_letter(tmp_path) -> str:
    store = Store(tmp_path / "w.db")
    sid = make_story(store, "a-1", "a-2", title="Attacks in Quetta", watch="balochistan-attacks")
    enqueue(store, sid, "siem", "new_story", "a-1", 1)
    await DeliveryWorker(store, {"siem": Refusing()}).deliver_due()
    store.close()
    return sid


async def test_stories_show_sources_and_what_each_notifier_got(config, tmp_path, capsys):
    await dead_letter(tmp_path)
    code, out, _ = run(capsys, "stories", "-c", config)
    assert code == 0
    assert "s-1  [balochistan-attacks]  Attacks in Quetta" in out
    assert "2 sources:" in out and "- dawn  2026-01-31 06:01Z  Attacks in Quetta (a-2)" in out
    assert "siem: 1 dead, last error: HTTP 400 Bad Request: unknown field" in out


async def test_why_a_story_tells_every_decision_and_outbox_retry_requeues(config, tmp_path, capsys):
    await dead_letter(tmp_path)
    code, out, _ = run(capsys, "why", "s-1", "-c", config)
    assert code == 0
    assert "dead      new_story d-1 dead-lettered (refused by the receiver)" in out

    code, out, _ = run(capsys, "outbox", "--status", "dead", "-c", config)
    assert "d-1  dead" in out and "(0 pending, 0 delivered, 1 dead)" in out

    code, out, _ = run(capsys, "outbox", "retry", "--dead", "-c", config)
    assert code == 0 and "requeued 1 deliveries" in out
    code, out, _ = run(capsys, "outbox", "-c", config)
    assert "d-1  pending" in out
    code, out, _ = run(capsys, "why", "s-1", "-c", config)
    assert "requeued  new_story d-1 requeued by `wirewatch outbox retry`" in out


async def test_why_an_article_shows_each_watch_and_the_decisions_about_it(config, tmp_path, capsys):
    sid = await dead_letter(tmp_path)
    store = Store(tmp_path / "w.db")
    store.articles.add(Article("a-2", "geo", "Second report", "text", T0), "hash")
    match = WatchMatch("balochistan-attacks", True, 0.71, 0.45, "Gunmen attacked...")
    match.reason = "score 0.71 ≥ 0.45; in Balochistan via Quetta"
    store.articles.add_match("a-2", match, sid)
    store.decisions.record(
        decision="grouped", reason="new source (similar); joins queued new_story d-1",
        watch="balochistan-attacks", story_id=sid, article_id="a-2", notifier="siem",
    )  # fmt: skip
    store.close()

    code, out, _ = run(capsys, "why", "a-2", "-c", config)

    assert code == 0
    assert "a-2  geo  2026-01-31 06:00Z  Second report" in out
    assert "balochistan-attacks: fired, score 0.71 (threshold 0.45) -> story s-1: score" in out
    assert "grouped   new source (similar); joins queued new_story d-1  notifier=siem" in out
    code, _, err = run(capsys, "why", "s-99", "-c", config)
    assert code == 1 and "no story or article 's-99'" in err


def test_silence_add_list_expire(config, capsys):
    code, out, _ = run(
        capsys,
        "silence", "add", "--watch", "balochistan-attacks", "--for", "6h",
        "--reason", "exercise in progress", "--by", "ana", "-c", config,
    )  # fmt: skip
    assert code == 0
    assert out.startswith("#1  active   watch balochistan-attacks  until ")
    assert "(exercise in progress) by ana" in out

    store = Store(config.replace("w.yaml", "w.db"))
    [silence] = store.silences.all(active_at=utcnow())
    assert timedelta(hours=5, minutes=59) < silence.ends_at - utcnow() <= timedelta(hours=6)
    assert silence_covering(store, "balochistan-attacks", "s-7") is not None
    store.close()

    code, out, _ = run(capsys, "silence", "list", "-c", config)
    assert "#1  active" in out
    code, out, _ = run(capsys, "silence", "expire", "1", "-c", config)
    assert code == 0 and "silence #1 expired" in out
    code, out, _ = run(capsys, "silence", "list", "-c", config)
    assert "no active silences" in out
    code, _, err = run(capsys, "silence", "expire", "1", "-c", config)
    assert code == 1 and "no active silence #1" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--watch", "balochistan-atacks"], "did you mean 'balochistan-attacks'?"),
        (["--story", "s-404"], "no story 's-404'"),
    ],
)
def test_silence_of_something_unknown_is_refused(config, capsys, args, message):
    code, _, err = run(
        capsys, "silence", "add", *args, "--for", "1h", "--reason", "x", "-c", config
    )
    assert code == 1 and message in err


def test_silence_needs_a_duration_a_reason_and_one_target(config, capsys):
    with pytest.raises(SystemExit):
        main(["silence", "add", "--watch", "w", "--story", "s-1", "--for", "1h", "--reason", "x"])
    with pytest.raises(SystemExit):
        main(["silence", "add", "--watch", "w", "--for", "six hours", "--reason", "x"])
    assert "invalid duration" in capsys.readouterr().err
