"""Sanity of the built-in demo news set."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from importlib.resources import files

import pytest
import yaml

from wirewatch.demo.articles import DEMO_ARTICLES, DEMO_OUTLETS, SEED_SLUGS, DemoArticle

SEED_TOWNS = ("Quetta", "Gwadar", "Pasni", "Mastung", "Nushki", "Turbat", "Panjgur", "Kalat")


def seed_reports() -> list[DemoArticle]:
    return [a for a in DEMO_ARTICLES if a.slug in SEED_SLUGS]


def test_outlets_are_distinct_and_use_every_feed_kind() -> None:
    assert len({o.name for o in DEMO_OUTLETS}) == len(DEMO_OUTLETS) >= 5
    assert len({o.path for o in DEMO_OUTLETS}) == len(DEMO_OUTLETS)
    assert {o.feed_kind for o in DEMO_OUTLETS} == {"rss", "atom", "json"}


def test_every_article_belongs_to_an_outlet_and_every_outlet_has_articles() -> None:
    names = {o.name for o in DEMO_OUTLETS}
    assert {a.outlet for a in DEMO_ARTICLES} == names


def test_slugs_are_unique_per_outlet() -> None:
    counts = Counter((a.outlet, a.slug) for a in DEMO_ARTICLES)
    assert max(counts.values()) == 1
    assert all(a.slug and a.slug != "feed" and "/" not in a.slug for a in DEMO_ARTICLES)


def test_articles_are_complete() -> None:
    assert 14 <= len(DEMO_ARTICLES) <= 24
    for article in DEMO_ARTICLES:
        assert article.title and article.summary
        assert 4 <= len(article.paragraphs) <= 8, article.slug
        assert all(p.strip() for p in article.paragraphs)
        assert article.published.utcoffset() == timedelta(0)


def test_published_times_fit_in_the_backfill_window() -> None:
    """The site keeps relative times; all of them must be fresh on a first poll."""
    times = [a.published for a in DEMO_ARTICLES]
    assert max(times) - min(times) < timedelta(hours=20)


def test_seed_story_is_carried_by_four_outlets() -> None:
    reports = seed_reports()
    assert len(reports) == len(SEED_SLUGS) >= 4
    assert len({a.outlet for a in reports}) >= 4
    for article in reports:
        text = article.text
        assert "Quetta" in text and "Balochistan" in text
        assert "internet" in text.lower()
        assert "suspend" in text.lower() or "shut down" in text.lower()
        assert sum(town in text for town in SEED_TOWNS) >= 4, article.slug


def test_seed_reports_are_rewritten_except_one_syndicated_copy() -> None:
    leads = {a.paragraphs[0] for a in seed_reports()}
    assert len(leads) == len(SEED_SLUGS)
    shared = Counter(p for a in seed_reports() for p in a.paragraphs)
    copied = [p for p, n in shared.items() if n > 1]
    assert len(copied) >= 3  # the syndicated copy repeats most of the wire text


def test_seed_follow_up_is_later_and_about_the_same_event() -> None:
    follow_up = next(a for a in DEMO_ARTICLES if "death-toll" in a.slug)
    assert follow_up.slug not in SEED_SLUGS
    assert follow_up.published > max(a.published for a in seed_reports())
    assert "Quetta" in follow_up.text and "internet" in follow_up.text


def test_hard_negatives_are_present() -> None:
    texts = {a.slug: a.text for a in DEMO_ARTICLES}
    assert any("Zahedan" in t and "Sistan and Baluchestan" in t for t in texts.values())
    assert any("federal government shut down" in t for t in texts.values())
    assert any("ransomware" in t for t in texts.values())
    assert any("Quetta" in t and "wickets" in t for t in texts.values())


def demo_yaml_text() -> str:
    return (files("wirewatch.demo") / "demo.yaml").read_text(encoding="utf-8")


def test_demo_yaml_lists_every_demo_outlet() -> None:
    config = yaml.safe_load(demo_yaml_text())
    feeds = {o["name"]: o["feed"] for o in config["outlets"]}
    assert feeds == {o.name: f"${{DEMO_BASE_URL}}/{o.path}/feed" for o in DEMO_OUTLETS}
    assert config["crawler"]["allow_private_addresses"] is True
    watches = {w["name"]: w for w in config["watches"]}
    assert set(watches) == {"balochistan-attacks", "internet-shutdowns"}
    assert watches["balochistan-attacks"]["regions"] == ["Balochistan"]
    notifiers = {n["name"] for n in config["notifiers"]}
    assert notifiers == {"terminal"}
    assert all(set(w["notify"]) <= notifiers for w in watches.values())


def test_demo_yaml_loads_with_the_config_package(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = pytest.importorskip("wirewatch.config.loader")
    monkeypatch.setenv("DEMO_BASE_URL", "http://127.0.0.1:8123")
    config = loader.load_config_text(demo_yaml_text(), filename="demo.yaml")
    assert [o.name for o in config.outlets] == [o.name for o in DEMO_OUTLETS]
    assert config.outlets[0].feed == "http://127.0.0.1:8123/frontier-post/feed"
    assert {w.name for w in config.watches} == {"balochistan-attacks", "internet-shutdowns"}
