"""Loading YAML: every problem reported as FILE:LINE: field.path: message, all at once.

Each kind of mistake has its own file in testdata/ (see test_testdata.py); the tests here
are about loading as a whole: valid files, `${ENV}`, aliases, files that are not there.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wirewatch.config.loader import (
    ConfigError,
    Problem,
    check_config,
    config_path_from,
    load_config,
    load_config_text,
)

EXAMPLE = Path(__file__).parents[2] / "config" / "wirewatch.example.yaml"
EXAMPLE_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-example-token",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/secretpart",
    "SMTP_USER": "wirewatch",
    "SMTP_PASSWORD": "smtp-password-123",
    "WEBHOOK_SECRET": "hmac-secret-456-for-the-siem",
}
BASE = """\
outlets:
  - name: dawn
    feed: https://www.dawn.com/feeds/home
watches:
  - name: attacks
    topic: coordinated attacks
    notify: [soc]
notifiers:
  - name: soc
    type: terminal
"""


def problems(text: str, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(textwrap.dedent(text), filename="c.yaml", **kwargs)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)


def test_a_valid_config_loads():
    config = load_config_text(BASE)
    assert [o.name for o in config.outlets] == ["dawn"]
    assert config.watches[0].notify == ["soc"]
    assert config.notifiers[0].type == "terminal"


def test_problem_formats_as_file_line_field_message():
    assert str(Problem("c.yaml", 3, "watches[0].threshold", "bad")) == (
        "c.yaml:3: watches[0].threshold: bad"
    )
    assert str(Problem("c.yaml", 0, "", "cannot read")) == "c.yaml:0: cannot read"


def test_environment_variables_are_substituted(monkeypatch):
    monkeypatch.setenv("FEED_HOST", "https://feeds.example.org")
    monkeypatch.delenv("UNSET_FOR_TEST", raising=False)
    text = BASE.replace(
        "https://www.dawn.com/feeds/home", "${FEED_HOST}/dawn?x=${UNSET_FOR_TEST:-1}&y=$${LIT}"
    )
    config = load_config_text(text)
    assert config.outlets[0].feed == "https://feeds.example.org/dawn?x=1&y=${LIT}"


def test_merge_keys_and_aliases_work_and_are_not_duplicates():
    text = """\
    outlets:
      - &base {name: a, feed: "https://a.example/feed", interval: 10m, fetch_articles: false}
      - <<: *base
        name: b
        feed: https://b.example/feed
    """
    config = load_config_text(textwrap.dedent(text))
    b = config.outlets[1]
    assert (b.name, b.feed, b.interval, b.fetch_articles) == (
        "b",
        "https://b.example/feed",
        600.0,
        False,
    )


def test_an_empty_text_is_one_problem():
    assert problems("") == [
        "c.yaml:1: the file is empty: expected sections such as outlets, watches"
    ]


def test_region_names_are_checked_only_with_a_region_check():
    text = BASE.replace(
        "    notify: [soc]", "    regions: [Balochistan, Balochistn]\n    notify: [soc]"
    )
    assert load_config_text(text).watches[0].regions == ["Balochistan", "Balochistn"]


def test_every_problem_is_reported_at_once(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_FOR_TEST", raising=False)
    path = tmp_path / "broken.yaml"
    path.write_text(
        textwrap.dedent("""\
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
        notifiers:
          - {name: soc, type: slack, token: "${NOT_SET_FOR_TEST}", channel: "#x"}
        """)
    )
    result = [
        str(p) for p in check_config(path, region_check=lambda name: f"unknown region {name!r}")
    ]
    assert result == [
        f"{path}:4: outlets[0].interval: invalid duration '5 minutes': use seconds or a number "
        "with a unit: 30s, 5m, 1h, 2d, 1h30m",
        f"{path}:8: watches[0].regions[0]: unknown region 'Balochistn'",
        f"{path}:9: watches[0].treshold: unknown key 'treshold' (did you mean 'threshold'?)",
        f"{path}:10: watches[0].notify[0]: unknown notifier 'nobody' (defined: soc)",
        f"{path}:12: notifiers[0].token: environment variable NOT_SET_FOR_TEST is not set",
    ]


def test_a_missing_file_is_a_problem_at_line_zero(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    [problem] = caught.value.problems
    assert problem.line == 0
    assert (
        str(problem)
        == f"{tmp_path / 'nope.yaml'}:0: cannot read the file: No such file or directory"
    )


def test_config_path_comes_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.setenv("WIREWATCH_CONFIG", "/etc/wirewatch.yaml")
    assert config_path_from("my.yaml") == Path("my.yaml")
    assert config_path_from(None) == Path("/etc/wirewatch.yaml")
    monkeypatch.delenv("WIREWATCH_CONFIG")
    with pytest.raises(ValueError, match="pass -c FILE or set WIREWATCH_CONFIG"):
        config_path_from(None)


def test_the_example_file_loads(example_env):
    config = load_config(EXAMPLE, region_check=lambda name: None)
    assert {w.name for w in config.watches} == {"balochistan-attacks", "internet-shutdowns"}
    assert {n.name for n in config.notifiers} == {"soc-slack", "ops-hook", "morning-digest", "siem"}
    slack = config.notifier("soc-slack")
    assert slack.token.get_secret_value() == EXAMPLE_ENV["SLACK_BOT_TOKEN"]
    email = config.notifier("morning-digest")
    assert (email.from_, email.timezone, email.schedule) == (
        "wirewatch@example.org",
        "Asia/Karachi",
        "0 7 * * *",
    )
    assert config.server is not None and (config.server.host, config.server.port) == (
        "127.0.0.1",
        9464,
    )
    assert config.crawler.feed_max_bytes == 5 * 1024 * 1024
    assert config.outlets[0].interval == 300.0


def test_the_example_file_knows_only_real_regions(example_env):
    gazetteer = pytest.importorskip("wirewatch.rules.places").Gazetteer.load()
    load_config(EXAMPLE, region_check=lambda n: None if gazetteer.resolve_region(n) else "unknown")


def test_secrets_never_show_in_repr_or_str(example_env):
    config = load_config(EXAMPLE)
    shown = repr(config) + str(config) + repr(config.notifiers)
    for name in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SMTP_PASSWORD", "WEBHOOK_SECRET"):
        assert EXAMPLE_ENV[name] not in shown


def test_the_example_needs_its_environment_variables(monkeypatch):
    for name in EXAMPLE_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE)
    messages = {p.message for p in caught.value.problems}
    assert messages == {f"environment variable {name} is not set" for name in EXAMPLE_ENV}


def test_the_loaded_example_round_trips_through_the_models(example_env):
    config = load_config(EXAMPLE)
    again = type(config).model_validate(config.model_dump(by_alias=True))
    assert again == config
