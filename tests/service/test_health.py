"""`server.listen`: /healthz and /metrics of a real service (demo outlets, local Slack API)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.configs import (
    attacks_watch,
    config_yaml,
    local_crawler,
    site_outlets,
    slack_notifier,
    sqlite,
)
from tests.fixtures.process import eventually, get_json, get_text
from wirewatch.config.loader import load_config_text
from wirewatch.demo.articles import DEMO_ARTICLES, DEMO_OUTLETS
from wirewatch.demo.site import DemoSite
from wirewatch.service.service import Service

pytestmark = pytest.mark.slow

# Two reports of the seed event and a look-alike (one outlet each): one story, one reply.
SLUGS = {
    "bla-coordinated-attacks-ten-balochistan-towns",
    "militants-attack-ten-towns-balochistan",
    "ransomware-attack-bank-card-servers",
}
STEPS = ("check", "match", "record")  # where a batch's time goes (wirewatch_batch_seconds)


def service_config(site: DemoSite, slack_api, db) -> str:
    return config_yaml(
        storage=sqlite(db),
        crawler=local_crawler(),
        server={"listen": "127.0.0.1:0"},
        outlets=site_outlets(site, *DEMO_OUTLETS[:3], interval="1h"),
        watches=[attacks_watch(group_wait="0s", update_interval="0s", notify=["soc-slack"])],
        notifiers=[slack_notifier(slack_api)],
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of a Prometheus text page."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(values: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in values.items() if n == name and wanted <= set(ls))


async def test_healthz_and_metrics_follow_the_service_through_its_life(slack_api, tmp_path):
    articles = [a for a in DEMO_ARTICLES if a.slug in SLUGS]
    async with DemoSite(articles, DEMO_OUTLETS) as site:
        config = load_config_text(service_config(site, slack_api, tmp_path / "w.db"))
        service = Service(config)
        slack_api.fail_next(1, status=500)  # the first post fails, its retry succeeds
        await service.start()
        host, port = service.server_address
        base = f"http://{host}:{port}"
        running = None
        try:
            status, health = await get_json(f"{base}/healthz")
            assert (status, health["ready"], health["scheduler"]) == (503, False, "stopped")

            running = asyncio.create_task(service.run_forever())
            await eventually(lambda: service.delivery.last_errors, within=60, what="a failure")
            status, health = await get_json(f"{base}/healthz")
            assert status == 200 and health["ready"] and health["store"] == "ok"
            assert "500" in health["notifier_errors"]["soc-slack"]
            _, page = await get_text(f"{base}/metrics")
            assert total(samples(page), "wirewatch_notifier_failing", notifier="soc-slack") == 1

            # the reply reaches Slack a moment before the outbox records it as delivered
            await eventually(
                lambda: len(slack_api.replies) == 1 and service.delivery.pending() == 0,
                within=60,
                what="the reply, recorded as delivered",
            )
            status, health = await get_json(f"{base}/healthz")
            assert status == 200 and health["notifier_errors"] == {}
            assert health["outbox_pending"] == 0
            assert 0 <= health["last_successful_poll_age_s"] < 60
            _, page = await get_text(f"{base}/metrics")
            values = samples(page)
            assert total(values, "wirewatch_polls_total") == 3
            assert total(values, "wirewatch_articles_total") == 3
            assert total(values, "wirewatch_matches_total", watch="balochistan-attacks") == 2
            assert total(values, "wirewatch_stories_total", watch="balochistan-attacks") == 1
            assert total(values, "wirewatch_alerts_total", notifier="soc-slack") == 2
            assert total(values, "wirewatch_deliveries_total", result="delivered") == 2
            assert total(values, "wirewatch_deliveries_total", result="failed") == 1
            assert total(values, "wirewatch_outbox_pending") == 0
            assert total(values, "wirewatch_notifier_failing") == 0
            assert total(values, "wirewatch_match_seconds_count") >= 1
            steps = {s: total(values, "wirewatch_batch_seconds_total", step=s) for s in STEPS}
            assert all(seconds > 0 for seconds in steps.values()), steps
            assert steps["match"] <= total(values, "wirewatch_match_seconds_sum")
            assert total(values, "wirewatch_event_loop_lag_seconds_count") >= 1
            assert total(values, "wirewatch_poll_not_modified_ratio") == 0

            real, broken = service.store.conn, sqlite3.connect(":memory:")
            broken.close()
            service.store.conn = broken  # the database stops answering
            status, health = await get_json(f"{base}/healthz")
            service.store.conn = real
            assert (status, health["store"], health["ready"]) == (503, "unreachable", False)
        finally:
            await service.stop()
            if running is not None:
                await running
