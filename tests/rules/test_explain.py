"""format_explanation: a readable per-watch account of one article."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from wirewatch.models import Article
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.explain import format_explanation
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer

WATCHES = [
    SimpleNamespace(
        name="balochistan-attacks",
        topic="coordinated militant attacks",
        description="Militants carry out several simultaneous assaults on security forces.",
        examples=["Gunmen struck army camps in three towns at once"],
        exclude=["a coordinated cyber attack on bank servers"],
        regions=["Balochistan"],
        threshold=None,
        notify=[],
        exclude_threshold=None,
    ),
    SimpleNamespace(
        name="cricket",
        topic="cricket results",
        description="Who won a cricket match.",
        examples=[],
        exclude=[],
        regions=[],
        threshold=0.9,
        notify=[],
        exclude_threshold=None,
    ),
]
ARTICLE = Article(
    "z-1",
    "wire",
    "Militants launch simultaneous attacks on police stations in Zahedan",
    "ZAHEDAN, Iran - Gunmen and suicide bombers attacked three police stations at once in "
    "Zahedan, capital of Sistan and Baluchestan province.\n\nOfficials said 11 were killed.\n\n"
    + " ".join(["Security forces later sealed the city and searched homes."] * 40),
    datetime(2026, 1, 1, tzinfo=UTC),
    url="https://example.org/z-1",
)


@pytest.fixture(scope="module")
def decided():
    import asyncio

    matcher = Matcher(WATCHES, Encoder(), Gazetteer.load())
    try:
        [(encoding, matches)] = asyncio.run(matcher.match_articles([ARTICLE]))
    finally:
        matcher.close()
    return encoding, matches, matcher.prepared


@pytest.fixture(scope="module")
def explained(decided) -> str:
    encoding, matches, prepared = decided
    return format_explanation(ARTICLE, encoding, matches, WATCHES, prepared)


def test_an_article_in_another_language_says_the_model_reads_english(decided, explained):
    encoding, matches, prepared = decided
    french = dataclasses.replace(ARTICLE, language="fr")
    note = "language: fr; the default model reads English"
    assert note in format_explanation(french, encoding, matches, WATCHES, prepared)
    assert note not in explained  # no language given: nothing to say
    multilingual = format_explanation(
        french, encoding, matches, WATCHES, prepared, model="paraphrase-multilingual-MiniLM-L12-v2"
    )
    assert "language:" not in multilingual


def test_header_and_every_watch(explained):
    assert explained.startswith(f"Article: {ARTICLE.title}")
    assert "== balochistan-attacks: no match" in explained
    assert "== cricket: no match" in explained
    assert "https://example.org/z-1" in explained


def test_top_passages_with_scores(explained):
    block = explained.split("== balochistan-attacks")[1].split("== cricket")[0]
    passages = [line for line in block.splitlines() if line.strip().startswith("0.")]
    assert len(passages) == 3
    scores = [float(line.split()[0]) for line in passages]
    assert scores == sorted(scores, reverse=True)
    assert "[lead]" in block


def test_places_and_region_evidence(explained):
    block = explained.split("== balochistan-attacks")[1].split("== cricket")[0]
    assert "regions: Balochistan" in block
    zahedan = next(line for line in block.splitlines() if line.strip().startswith("Zahedan"))
    assert "Sistan and Baluchestan, IR" in zahedan and "outside" in zahedan and "lead" in zahedan
    assert "reason: no place inside Balochistan" in block


def test_threshold_comparison(explained):
    assert "threshold 0.90" in explained
    assert "reason: score" in explained.split("== cricket")[1]


def test_exclude_phrases_show_the_headline_words_they_listen_for(explained):
    block = explained.split("== balochistan-attacks")[1].split("== cricket")[0]
    line = next(li for li in block.splitlines() if "cyber attack on bank servers" in li)
    words = line.split(":", 1)[1]
    assert "cyber" in words and "servers" in words  # as written, not stems
    assert "attack" not in words  # the watch's own word
    assert "exclude phrases" not in explained.split("== cricket")[1]  # cricket has none
