"""TerminalNotifier: readable alerts on a stream (standard output by default)."""

from __future__ import annotations

import io
from types import SimpleNamespace

from tests.fixtures.slack_api import sample_alert
from wirewatch.notifiers import TerminalNotifier, build_notifier

CONFIG = SimpleNamespace(name="terminal", type="terminal")


async def test_new_story_goes_to_stdout(capsys):
    alert = sample_alert(outlets=("dawn", "geo", "tribune", "express"))

    result = await build_notifier(CONFIG).send(alert, None)

    assert result.ok and result.remote_ref == "s-3"
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == (
        "[balochistan-attacks] NEW STORY s-3: "
        "Militants strike army camps in Quetta and Gwadar at once"
    )
    assert "places: Quetta, Gwadar" in lines[1] and "regions: Balochistan" in lines[1]
    assert "score 0.71" in lines[1] and "4 sources (dawn, geo +2 more)" in lines[1]
    assert lines[2].startswith("  - dawn  0.71  24 Nov 2026 07:05 UTC  Militants strike")
    assert lines[2].endswith("https://dawn.example.org/news/0")
    assert "  - geo  0.70  " in out and "  - express  0.68  " in out
    assert lines[-1] == (
        "  > Gunmen attacked two army camps in Quetta and Gwadar within minutes of each other. "
        "Officials said the assaults were coordinated. Roads were closed across the province."
    )
    assert "fourth sentence" not in out


async def test_update_is_marked_and_lists_the_new_sources():
    stream = io.StringIO()
    notifier = TerminalNotifier(CONFIG, stream=stream)
    alert = sample_alert("story_update", outlets=("geo",), known=2)

    result = await notifier.send(alert, "s-3")

    assert result.ok and result.remote_ref == "s-3"
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[balochistan-attacks] UPDATE s-3: Militants strike")
    assert "+1 new source (geo), 3 in all" in lines[1] and "places: Quetta, Gwadar" in lines[1]
    assert [line for line in lines if line.startswith("  - ")] == [
        lines[2]
    ] and "geo  0.69" in lines[2]
    assert lines[-1].startswith("  > Gunmen attacked")


async def test_control_characters_cannot_reach_the_terminal():
    stream = io.StringIO()
    alert = sample_alert(
        title="Blast\x1b[2J\x1b]0;owned\x07 in\nQuetta\u202e", evidence="Text\x1b[31m red. More."
    )
    await TerminalNotifier(CONFIG, stream=stream).send(alert, None)

    out = stream.getvalue()
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "Blast[2J]0;owned in Quetta" in out.splitlines()[0]


async def test_huge_title_is_cut():
    stream = io.StringIO()
    await TerminalNotifier(CONFIG, stream=stream).send(sample_alert(title="word " * 5000), None)
    assert max(len(line) for line in stream.getvalue().splitlines()) < 400


async def test_closed_stream_is_a_retryable_failure():
    stream = io.StringIO()
    stream.close()

    result = await TerminalNotifier(CONFIG, stream=stream).send(sample_alert(), None)

    assert not result.ok and result.retryable
    assert result.error.startswith("could not write to the terminal")
