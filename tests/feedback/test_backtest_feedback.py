"""`backtest --feedback`: a judgement applies right after its article, so later ones change."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.fixtures.configs import attacks_watch, service_config, sqlite
from wirewatch.cli.main import main
from wirewatch.demo.articles import DEMO_ARTICLES

pytestmark = pytest.mark.slow
WATCH = "balochistan-attacks"
SEED = next(a for a in DEMO_ARTICLES if a.slug == "bla-coordinated-attacks-ten-balochistan-towns")
# the same wire copy, republished by two other outlets later that day
REPUBLISHED = [
    replace(SEED, outlet="makran-herald", title=SEED.title.replace("; mobile", ", mobile")),
    replace(SEED, outlet="global-desk", title=SEED.title.split(";")[0]),
]


def corpus_line(article_id: str, article, hours: int) -> str:
    return json.dumps(
        {
            "id": article_id,
            "title": article.title,
            "text": article.text,
            "outlet": article.outlet,
            "published": f"2026-11-24T{7 + hours:02d}:00:00Z",
        }
    )


@pytest.fixture
def setup(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    lines = [corpus_line("a-1", SEED, 0)]
    lines += [corpus_line(f"a-{i}", a, i) for i, a in enumerate(REPUBLISHED, start=2)]
    corpus.write_text("\n".join(reversed(lines)) + "\n")  # published order, not file order
    config = service_config(tmp_path, storage=sqlite(tmp_path / "w.db"), watches=[attacks_watch()])
    return tmp_path, str(config), str(corpus)


def backtest(tmp_path, config, corpus, *extra: str) -> dict[str, list[dict]]:
    out = tmp_path / "out.jsonl"
    assert main(["backtest", "-c", config, corpus, "--out", str(out), *extra]) == 0
    return {line["id"]: line["matches"] for line in map(json.loads, out.read_text().splitlines())}


def test_a_judgement_changes_the_later_articles_only(setup):
    tmp_path, config, corpus = setup
    before = backtest(tmp_path, config, corpus)
    assert all(before[f"a-{i}"] for i in (1, 2, 3)), "without feedback every copy matches"

    # a-1 judged not relevant: the next copy does not match; a-2 then judged relevant: the
    # last copy is as close to both, and the watch decides it as before
    judgements = tmp_path / "judgements.jsonl"
    judgements.write_text(
        json.dumps({"id": "a-1", "watch": WATCH, "relevant": False})
        + "\n"
        + json.dumps({"id": "a-2", "watch": WATCH, "relevant": True, "note": "ours after all"})
        + "\n"
    )
    after = backtest(tmp_path, config, corpus, "--feedback", str(judgements))
    assert after["a-1"] == before["a-1"], "the judged article was decided before its judgement"
    assert after["a-2"] == []
    assert after["a-3"] != []
    assert list(after) == ["a-3", "a-2", "a-1"], "one line per article, in input order"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a-9", "watch": "balochistan-attacks", "relevant": false}', "not in the corpus"),
        ('{"id": "a-1", "watch": "nope", "relevant": false}', "unknown watch 'nope'"),
        ('{"id": "a-1", "watch": "balochistan-attacks", "relevant": "no"}', "true or false"),
        ('{"id": "a-1", "watch": "balochistan-attacks"}', "missing field 'relevant'"),
        ("not json", "judgements.jsonl:1:"),
    ],
)
def test_a_bad_judgements_file_is_refused_with_its_line(setup, capsys, line, message):
    tmp_path, config, corpus = setup
    judgements = tmp_path / "judgements.jsonl"
    judgements.write_text(line + "\n")
    assert main(["backtest", "-c", config, corpus, "--feedback", str(judgements)]) == 1
    err = capsys.readouterr().err
    assert "judgements.jsonl:1:" in err and message in err
