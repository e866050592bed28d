"""`wirewatch feedback` (judge, list, undo) and `wirewatch suggest`, as a user runs them."""

from __future__ import annotations

import pytest
import yaml

from tests.fixtures.configs import service_config, sqlite, watch_entry
from tests.store.test_feedback import stored_article
from wirewatch.cli.main import main
from wirewatch.models import WatchMatch
from wirewatch.store import Store

WATCH = "balochistan-attacks"


@pytest.fixture
def config(tmp_path) -> str:
    path = service_config(
        tmp_path,
        storage=sqlite(tmp_path / "w.db"),
        watches=[watch_entry(WATCH, "coordinated attacks", examples=["an old example"])],
    )
    store = Store(tmp_path / "w.db")
    stored_article(store, "a-1", "https://dawn.example/news/1")
    stored_article(store, "a-2", "https://dawn.example/news/2")
    match = WatchMatch(WATCH, True, 0.61, 0.4, "evidence", reason="score 0.61 ≥ 0.40")
    store.articles.add_match("a-1", match, "s-1")
    store.articles.add_match("a-2", WatchMatch(WATCH, False, 0.3, 0.4, "evidence"), None)
    store.close()
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_judge_by_id_and_by_url_list_and_undo(config, capsys, monkeypatch):
    monkeypatch.setenv("USER", "ayesha")
    code, out, _ = run(capsys, "feedback", "a-1", "--watch", WATCH, "not-relevant", "-c", config,
                       "--note", "a police raid")  # fmt: skip
    assert code == 0 and "#1" in out and "not relevant" in out and "story s-1" in out
    code, out, _ = run(
        capsys,
        "feedback",
        "-c",
        config,
        "https://dawn.example/news/2",
        "relevant",
        "--watch",
        WATCH,
    )
    assert code == 0 and "#2" in out and "a-2 relevant" in out and "by ayesha via cli" in out

    code, out, _ = run(capsys, "feedback", "list", "-c", config)
    assert code == 0 and out.count("\n") == 2 and "note: a police raid" in out

    code, out, _ = run(capsys, "feedback", "undo", "1", "-c", config)
    assert code == 0 and "#1 undone" in out
    code, out, _ = run(capsys, "feedback", "list", "-c", config)
    assert "#1" not in out and "#2" in out
    code, out, _ = run(capsys, "feedback", "list", "--all", "-c", config)
    assert "[undone" in out and "by ayesha]" in out
    code, _, err = run(capsys, "feedback", "undo", "1", "-c", config)
    assert code == 1 and "no active judgement #1" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a-9", "--watch", WATCH, "relevant"], "no stored article with id or URL 'a-9'"),
        (["a-1", "--watch", "nope", "relevant"], "unknown watch 'nope'"),
        (["a-1", "--watch", WATCH, "maybe"], "usage:"),
        (["a-1", "relevant"], "usage:"),
    ],
)
def test_a_bad_judgement_is_refused_and_nothing_is_stored(config, capsys, argv, message):
    code, _, err = run(capsys, "feedback", *argv, "-c", config)
    assert code != 0 and message in err
    _, out, _ = run(capsys, "feedback", "list", "-c", config)
    assert out.strip() == "no judgements"


def test_suggest_prints_a_patch_that_adds_missed_reports_and_false_alarms(config, capsys):
    run(capsys, "feedback", "a-1", "--watch", WATCH, "not-relevant", "-c", config)
    run(capsys, "feedback", "a-2", "--watch", WATCH, "relevant", "-c", config)
    code, out, _ = run(capsys, "suggest", "-c", config)
    assert code == 0 and out.startswith("# wirewatch suggest")
    [patch] = yaml.safe_load(out)["watches"]
    title = "Militants attack police stations in Turbat"
    assert patch["name"] == WATCH
    assert patch["examples"] == ["an old example", title]  # the missed report
    assert patch["exclude"] == [title]  # the false alarm (both test articles share a title)
    # a-1 (not relevant) scored 0.61, a-2 (relevant) 0.30: no threshold decides both right,
    # and one that gets one right gets the other wrong: no change proposed
    assert "threshold" not in patch
