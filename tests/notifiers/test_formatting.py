"""The text helpers shared by the notifiers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wirewatch import defaults
from wirewatch.notifiers.formatting import (
    ELLIPSIS,
    cut_words,
    escape_mrkdwn,
    excerpt,
    format_time,
    iso_utc,
    one_line,
    short_title,
    slack_link,
    source_summary,
    truncate,
)
from wirewatch.util import terminal_safe

EVIDENCE = (
    "Gunmen attacked two army camps. Officials said the assaults were coordinated! "
    "Were roads closed? A fourth sentence is left out."
)


def test_excerpt_keeps_whole_sentences():
    assert excerpt(EVIDENCE) == (
        "Gunmen attacked two army camps. Officials said the assaults were coordinated! "
        "Were roads closed?"
    )
    assert excerpt(EVIDENCE, max_sentences=1) == "Gunmen attacked two army camps."
    assert excerpt(EVIDENCE, max_chars=60) == "Gunmen attacked two army camps."


def test_excerpt_cuts_a_long_first_sentence_between_words():
    text = "Gunmen attacked " + "many " * 100 + "camps."
    short = excerpt(text, max_chars=50)
    assert short == "Gunmen attacked many many many many many many…"
    assert len(short) <= 50


def test_excerpt_of_nothing_and_of_one_line_text():
    assert excerpt("") == "" and excerpt("   \n ") == ""
    assert excerpt("No full stop\nat the end") == "No full stop at the end"


def test_truncate_and_short_title():
    assert truncate("short", 10) == "short"
    assert truncate("exactly ten", 11) == "exactly ten"
    assert truncate("a" * 20, 10) == "a" * 9 + ELLIPSIS
    assert truncate("Attack &amp; more", 11) == "Attack" + ELLIPSIS  # no half entity
    assert truncate("see <https://x.example|here> now", 20) == "see" + ELLIPSIS  # no half link
    assert (
        short_title("Militants   strike\narmy camps in Quetta", 30)
        == "Militants strike army camps…"
    )
    assert cut_words("Unbreakablewordwithoutspaces", 10) == "Unbreakab" + ELLIPSIS


def test_source_summary():
    assert source_summary([]) == ""
    assert source_summary(["dawn"]) == "dawn"
    assert source_summary(["dawn", "geo"]) == "dawn, geo"
    assert source_summary(["dawn", "geo", "tribune", "express", "bbc"]) == "dawn, geo +3 more"
    assert source_summary(["dawn", "dawn", "geo", "dawn"]) == "dawn, geo"  # each outlet once
    assert source_summary(["dawn", "geo", "bbc"], names=1) == "dawn +2 more"


def test_escape_mrkdwn_defuses_mentions_and_links():
    escaped = escape_mrkdwn("<!channel> & <@U1> <https://evil|x> @here @Everyone")
    assert "<" not in escaped and ">" not in escaped
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in escaped
    assert "@here" not in escaped and "@Everyone" not in escaped
    assert "@\u200bhere" in escaped
    assert escape_mrkdwn("write to ops@channelfour.example") == "write to ops@channelfour.example"


def test_slack_link():
    assert slack_link("https://dawn.example/a?b=1&c=2", "Title <b>") == (
        "<https://dawn.example/a?b=1&amp;c=2|Title &lt;b&gt;>"
    )
    assert slack_link("javascript:alert(1)", "Click") == "Click"
    assert slack_link(None, "") == "(untitled)"
    assert slack_link("https://x.example/" + "a" * 3000, "Long") == "Long"
    assert slack_link("https://x.example/a|b>c", "t") == "<https://x.example/a%7Cb%3Ec|t>"


def test_times():
    pkt = timezone(timedelta(hours=5))
    assert format_time(datetime(2026, 11, 24, 12, 5, tzinfo=pkt)) == "24 Nov 2026 07:05 UTC"
    assert iso_utc(datetime(2026, 11, 24, 7, 5, 9, 999, tzinfo=UTC)) == "2026-11-24T07:05:09Z"
    assert iso_utc(datetime(2026, 11, 24, 7, 5)) == "2026-11-24T07:05:00Z"  # naive means UTC


def test_one_line_and_terminal_safe():
    assert one_line("  a\n\tb  c ") == "a b c"
    assert terminal_safe("a\x1b[1mb\x00c\u202ed\ud800") == "a[1mbcd"


any_text = st.text(max_size=2000)
limits = st.integers(min_value=0, max_value=600)


def test_escape_mrkdwn_swaps_emphasis_marks_for_look_alikes():
    assert escape_mrkdwn("*bold* _it_ ~gone~ `code`") == "∗bold∗ ˍitˍ ∼gone∼ ˋcodeˋ"
    assert escape_mrkdwn("snake_case & <b>") == "snakeˍcase &amp; &lt;b&gt;"


@given(text=any_text)
def test_escaped_text_has_no_markup_characters(text):
    escaped = escape_mrkdwn(text)
    assert not set(escaped) & set("<>*_~`")
    assert not re.search(r"@(here|channel|everyone)\b", escaped, re.IGNORECASE)


@given(text=any_text, limit=limits, sentences=st.integers(0, 5))
def test_excerpt_never_exceeds_its_limit(text, limit, sentences):
    result = excerpt(text, max_chars=limit, max_sentences=sentences)
    assert len(result) <= limit
    assert "\n" not in result
    if result and not result.endswith(ELLIPSIS):
        assert one_line(text).startswith(result)  # whole sentences, from the start


@given(text=any_text, limit=limits)
def test_truncation_never_exceeds_its_limit(text, limit):
    for result in (truncate(text, limit), cut_words(text, limit), short_title(text, limit)):
        assert len(result) <= limit
    if len(text) <= limit:
        assert truncate(text, limit) == text


@given(text=any_text, limit=st.integers(1, 400))
def test_escaped_truncation_never_leaves_markup(text, limit):
    result = truncate(escape_mrkdwn(text), limit)
    assert "<" not in result and ">" not in result
    assert len(result) <= limit


@given(url=st.one_of(st.none(), st.text(max_size=300), st.just("https://x.example/")
                     .map(lambda u: u)), label=any_text)  # fmt: skip
def test_slack_link_is_bounded_and_well_formed(url, label):
    link = slack_link(url, label)
    assert len(link) <= defaults.SLACK_LINK_MAX_CHARS
    if link.startswith("<"):
        assert link.count("<") == 1 and link.count(">") == 1 and link.endswith(">")
        assert link.count("|") == 1
    else:
        assert "<" not in link and ">" not in link


@given(outlets=st.lists(st.text(min_size=1, max_size=20), max_size=30), names=st.integers(0, 5))
def test_source_summary_names_at_most_n_and_counts_the_rest(outlets, names):
    summary = source_summary(outlets, names=names)
    unique = list(dict.fromkeys(one_line(o) for o in outlets))
    rest = len(unique) - min(len(unique), names)
    if rest:
        assert summary.endswith(f"{rest} more") or summary == f"{rest} outlets"
    else:
        assert summary == ", ".join(unique)


@pytest.mark.parametrize("limit", [0, 1, 2])
def test_tiny_limits(limit):
    assert len(excerpt(EVIDENCE, max_chars=limit)) <= limit
    assert len(truncate(EVIDENCE, limit)) <= limit
