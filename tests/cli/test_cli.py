"""The commands as a user runs them: exit codes, messages, output files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.fixtures.configs import attacks_watch, outlet_entry, service_config, watch_entry

WATCHES = [
    attacks_watch(),
    watch_entry(
        "internet-shutdowns",
        "internet shutdown",
        description="Authorities suspend or block mobile internet, data or social media.",
        exclude=["a US federal government shutdown", "a factory shutdown"],
    ),
]


def wirewatch(*args: str, stdin: str | None = None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wirewatch", *args],
        capture_output=True, text=True, input=stdin, timeout=300, env=env,
    )  # fmt: skip


def write(path, text: str):
    path.write_text(textwrap.dedent(text))
    return path


def test_check_reports_every_problem_with_file_and_line(tmp_path):
    config = write(
        tmp_path / "broken.yaml",
        """\
        outlets:
          - name: dawn
            feed: https://www.dawn.com/feeds/home
            interval: 5 minutes
        watches:
          - name: balochistan-attacks
            topic: coordinated attacks
            regions: [Balochistn]
            treshold: 0.5
            notify: [nobody]
        """,
    )
    result = wirewatch("check", "-c", str(config))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    path = str(config)
    assert any(line.startswith(f"{path}:4: outlets[0].interval:") for line in lines), lines
    assert any(line.startswith(f"{path}:9: ") and "treshold" in line for line in lines), lines
    assert any(line.startswith(f"{path}:8: ") and "Balochistan" in line for line in lines), lines
    assert any(line.startswith(f"{path}:10: ") and "nobody" in line for line in lines), lines


def test_check_accepts_a_valid_config_and_reads_wirewatch_config(tmp_path):
    dawn = outlet_entry("dawn", "https://www.dawn.com/feeds/home")
    config = service_config(tmp_path, name="ok.yaml", outlets=[dawn], watches=WATCHES)
    env = {"PATH": "/usr/bin:/bin", "WIREWATCH_CONFIG": str(config), "HF_HUB_OFFLINE": "1"}
    result = wirewatch("check", env=env)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    # what each region name means, so that a surprise shows before the first alert
    assert "balochistan-attacks: Balochistan = province or state in Pakistan" in result.stdout


def test_check_says_what_each_region_name_means(tmp_path):
    watches = [attacks_watch(regions=["Sahel", "Baluchistan", "Punjab"]), *WATCHES[1:]]
    config = service_config(tmp_path, name="ok.yaml", outlets=[], watches=watches)
    result = wirewatch("check", "-c", str(config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "  balochistan-attacks: Sahel = group of 5: Burkina Faso, Chad, Mali, Mauritania, Niger"
        in lines
    )
    assert (
        "  balochistan-attacks: Baluchistan = Balochistan, province or state in Pakistan" in lines
    )
    assert (
        "  balochistan-attacks: Punjab = province or state in Pakistan"
        " (also in India: write 'Punjab, India')"
    ) in lines


@pytest.mark.slow
def test_backtest_writes_one_contract_line_per_article_in_input_order(tmp_path):
    config = service_config(tmp_path, name="w.yaml", outlets=[], watches=WATCHES)
    attack = (
        "Baloch Liberation Army fighters launched simultaneous assaults on security posts in "
        "Quetta, Gwadar, Pasni, Mastung and Nushki, officials said. Gunmen and suicide bombers "
        "struck at least ten towns across Balochistan at once. Mobile internet was suspended in "
        "several districts of the province after the attacks."
    )
    bla = {"labels": {"coordinated_attack": True}, "country": "PK", "admin1": "Balochistan"}
    items = [
        {"id": "late-copy", "title": "Militants hit ten Balochistan towns in coordinated raids",
         "text": attack.replace("officials said", "police said"), "published": "2026-01-31T09:00Z",
         "outlet": "global-wire", "event_id": "bla", **bla},
        {"id": "first", "title": "BLA claims simultaneous attacks across Balochistan",
         "text": attack, "published": "2026-01-31T06:00:00Z", "outlet": "dawn",
         "event_id": "bla", **bla},
        {"id": "sport", "title": "Quetta Gladiators win the final in Karachi",
         "text": "The cricket side beat Karachi Kings by six wickets in front of a full stadium.",
         "published": "2026-01-31", "outlet": "sport-desk", "extra": "ignored",
         "labels": {"coordinated_attack": False}},
        {"id": "vague", "title": "Officials review security in Quetta",
         "text": "Provincial officials met in Quetta on Monday to review the budget.",
         "published": "2026-02-02", "outlet": "dawn", **bla},  # labeled, but says nothing
    ]  # fmt: skip
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(i) + "\n" for i in items))
    out = tmp_path / "out.jsonl"

    result = wirewatch(
        "backtest", "-c", str(config), str(corpus), "--out", str(out),
        "--labels", "balochistan-attacks=coordinated_attack@Balochistan",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["late-copy", "first", "sport", "vague"]
    assert lines[2]["matches"] == []
    first = {m["watch"]: m for m in lines[1]["matches"]}
    late = {m["watch"]: m for m in lines[0]["matches"]}
    assert set(first) == {"balochistan-attacks", "internet-shutdowns"}
    for watch, match in first.items():
        assert match["new_story"] is True
        assert set(match) >= {"watch", "score", "story", "new_story", "regions", "evidence"}
        # The later report of the same event joins the earlier one's story.
        assert late[watch]["story"] == match["story"] and late[watch]["new_story"] is False
    assert first["balochistan-attacks"]["regions"] == ["Balochistan"]
    assert "balochistan-attacks" in result.stdout  # the summary table
    # Scored against the labels: two found, the labeled-but-empty item listed as missed.
    report = next(line for line in result.stdout.splitlines() if "= coordinated_attack@" in line)
    assert report.split()[-6:] == ["1.00", "0.67", "0.80", "2", "0", "1"], report
    assert "balochistan-attacks: missed vague" in result.stdout


def test_backtest_rejects_a_corpus_line_without_required_fields(tmp_path):
    config = service_config(tmp_path, name="w.yaml", outlets=[], watches=WATCHES)
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"id": "x", "title": "no text or date"}\n')
    result = wirewatch("backtest", "-c", str(config), str(corpus))
    assert result.returncode == 1
    assert f"{corpus}:1:" in result.stderr and "text" in result.stderr
