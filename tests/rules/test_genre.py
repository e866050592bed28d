"""Opinion pieces are told apart by their headline label or their address."""

from __future__ import annotations

import pytest

from wirewatch.rules.genre import is_opinion


@pytest.mark.parametrize(
    ("title", "url"),
    [
        ("Editorial: Balochistan needs more than force", None),
        ("OPINION | Why the internet ban will backfire", None),
        ("Letter to the editor: Stop the shutdowns", None),
        ("Op-ed: The cost of silence", None),
        ("Quetta after the attacks", "https://news.example/opinion/2026/02/quetta-after"),
        ("Quetta after the attacks", "https://news.example/editorials/quetta"),
        ("A reader writes", "https://news.example/letters/123"),
    ],
)
def test_opinion_is_recognised(title, url):
    assert is_opinion(title, url)


@pytest.mark.parametrize(
    ("title", "url"),
    [
        ("Militants attack ten towns in Balochistan", "https://news.example/pakistan/2026/attacks"),
        ("Opinion polls close in Quetta", None),  # a headline that starts with the word
        ("Column of smoke rises over Gwadar port", None),
        ("Internet cut in Quetta", "https://opinionated-news.example/quetta"),  # host, not path
        ("Internet cut in Quetta", "http://[::1"),  # a broken address is no opinion
        # news desks publish reports under /blog/ (live pages, wire blogs): issue 16
        ("Gunmen kill 12 at Quetta bus stop", "https://news.example/blog/2026/quetta-bus"),
    ],
)
def test_news_is_not_opinion(title, url):
    assert not is_opinion(title, url)
