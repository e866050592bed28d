"""Loading YAML: every problem reported as FILE:LINE: field.path: message, all at once."""

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
    "WEBHOOK_SECRET": "hmac-secret-456",
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


def test_unknown_keys_are_reported_at_their_line_with_a_suggestion():
    assert problems(BASE.replace("    topic:", "    treshold: 0.5\n    topic:")) == [
        "c.yaml:6: watches[0].treshold: unknown key 'treshold' (did you mean 'threshold'?)"
    ]
    assert problems("crawler:\n  user_agent: x\n  timeout: 5\n") == [
        "c.yaml:3: crawler.timeout: unknown key 'timeout' (did you mean 'read_timeout'?)"
    ]
    assert problems("outlet: []\n") == [
        "c.yaml:1: outlet: unknown key 'outlet' (did you mean 'outlets'?)"
    ]


def test_unknown_keys_in_a_notifier_are_checked_against_its_type():
    text = BASE + "  - {name: s, type: slack, token: t, chanel: '#x'}\n"
    assert problems(text) == [
        "c.yaml:11: notifiers[1].channel: missing required key 'channel'",
        "c.yaml:11: notifiers[1].chanel: unknown key 'chanel' (did you mean 'channel'?)",
    ]


def test_wrong_types_and_values():
    text = """\
    model:
      batch_size: many
      device: gpu
    outlets:
      - name: Dawn News
        feed: ftp://example.org/feed
    watches:
      - name: w
        topic: t
        threshold: 1.5
        examples: just one
    """
    assert problems(text) == [
        "c.yaml:2: model.batch_size: must be a valid integer, unable to parse string as an integer",
        "c.yaml:3: model.device: must be one of 'cpu', 'cuda' or 'auto'",
        "c.yaml:5: outlets[0].name: invalid name 'Dawn News': use lowercase letters, digits and "
        "- _ . (starting with a letter or digit)",
        "c.yaml:6: outlets[0].feed: must be an absolute http:// or https:// URL, got "
        "'ftp://example.org/feed'",
        "c.yaml:10: watches[0].threshold: must be between 0 and 1 (exclusive), got 1.5",
        "c.yaml:11: watches[0].examples: expected a list, got a string",
    ]


def test_bad_durations_and_sizes():
    text = BASE.replace("home\n", "home\n    interval: 5 minutes\n    backfill: 2x\n")
    assert problems(text) == [
        "c.yaml:4: outlets[0].interval: invalid duration '5 minutes': use seconds or a number "
        "with a unit: 30s, 5m, 1h, 2d, 1h30m",
        "c.yaml:5: outlets[0].backfill: invalid duration '2x': use seconds or a number with a "
        "unit: 30s, 5m, 1h, 2d, 1h30m",
    ]
    assert problems(BASE.replace("home\n", "home\n    interval: 5s\n")) == [
        "c.yaml:4: outlets[0].interval: must be at least 10s"
    ]
    assert problems("crawler:\n  feed_max_bytes: lots\n  read_timeout: 0\n") == [
        "c.yaml:2: crawler.feed_max_bytes: invalid size 'lots': use bytes or a number with a "
        "unit: 512KB, 5MB, 1GB",
        "c.yaml:3: crawler.read_timeout: must be longer than 0s",
    ]


def test_missing_required_keys_point_at_their_mapping():
    text = "outlets:\n  - name: dawn\nwatches:\n  - name: w\n    notify: []\n"
    assert problems(text) == [
        "c.yaml:2: outlets[0].feed: missing required key 'feed'",
        "c.yaml:4: watches[0].topic: missing required key 'topic'",
    ]


def test_notifier_type_must_be_known(monkeypatch):
    assert problems("notifiers:\n  - name: x\n    type: slak\n  - name: y\n") == [
        "c.yaml:3: notifiers[0].type: unknown notifier type 'slak' (one of: slack, slack_webhook, "
        "email, webhook, terminal)",
        "c.yaml:4: notifiers[1].type: missing required key 'type' (one of: slack, slack_webhook, "
        "email, webhook, terminal)",
    ]


def test_environment_variables_are_substituted(monkeypatch):
    monkeypatch.setenv("FEED_HOST", "https://feeds.example.org")
    monkeypatch.delenv("UNSET_FOR_TEST", raising=False)
    text = BASE.replace(
        "https://www.dawn.com/feeds/home", "${FEED_HOST}/dawn?x=${UNSET_FOR_TEST:-1}&y=$${LIT}"
    )
    config = load_config_text(text)
    assert config.outlets[0].feed == "https://feeds.example.org/dawn?x=1&y=${LIT}"


def test_an_unset_environment_variable_is_one_problem(monkeypatch):
    monkeypatch.delenv("SLACK_TOKEN_FOR_TEST", raising=False)
    monkeypatch.delenv("HOOK_FOR_TEST", raising=False)
    text = BASE + (
        "  - {name: s, type: slack, token: '${SLACK_TOKEN_FOR_TEST}', channel: '#x'}\n"
        "  - name: h\n    type: webhook\n    url: ${HOOK_FOR_TEST}\n"
    )
    assert problems(text) == [
        "c.yaml:11: notifiers[1].token: environment variable SLACK_TOKEN_FOR_TEST is not set",
        "c.yaml:14: notifiers[2].url: environment variable HOOK_FOR_TEST is not set",
    ]


def test_duplicate_keys_are_reported():
    text = "storage:\n  url: sqlite:///a.db\n  url: sqlite:///b.db\nstorage: {}\n"
    assert problems(text) == [
        "c.yaml:3: storage.url: duplicate key 'url' (first on line 2)",
        "c.yaml:4: storage: duplicate key 'storage' (first on line 1)",
    ]


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


def test_yaml_syntax_errors_have_the_line_of_the_mark():
    assert problems("outlets:\n  - name: dawn\n    feed: [unclosed\nwatches: []\n") == [
        "c.yaml:4: invalid YAML: while parsing a flow sequence; expected ',' or ']', but got ':'"
    ]
    assert problems("a: b\n  c: d\n") == [
        "c.yaml:2: invalid YAML: mapping values are not allowed here"
    ]


EMPTY = "the file is empty: expected sections such as outlets, watches"
TOP = "expected a mapping of sections at the top, got "


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "c.yaml:1: " + EMPTY),
     ("# only a comment\n", "c.yaml:1: " + EMPTY),
     ("- a\n- b\n", "c.yaml:1: " + TOP + "a list"),
     ("hello\n", "c.yaml:1: " + TOP + "a single value ('hello')")],
)  # fmt: skip
def test_the_top_level_must_be_a_mapping(text, message):
    assert problems(text) == [message]


def test_a_notify_reference_to_an_undefined_notifier_suggests_a_close_name():
    assert problems(BASE.replace("notify: [soc]", "notify: [sco, pager]")) == [
        "c.yaml:7: watches[0].notify[0]: unknown notifier 'sco' (did you mean 'soc'?)",
        "c.yaml:7: watches[0].notify[1]: unknown notifier 'pager' (defined: soc)",
    ]
    text = "watches:\n  - name: w\n    topic: t\n    notify:\n      - soc\n"
    assert problems(text) == [
        "c.yaml:5: watches[0].notify[0]: unknown notifier 'soc': no notifiers are defined"
    ]


def test_duplicate_names_are_reported():
    text = BASE + "  - name: soc\n    type: terminal\n"
    assert problems(text) == [
        "c.yaml:11: notifiers[1].name: duplicate notifier name 'soc' (first on line 9)"
    ]


EMAIL = """\
notifiers:
  - name: digest
    type: email
    host: smtp.example.org
    from: wirewatch@example.org
    to: [soc@example.org]
    schedule: "{schedule}"
    timezone: {timezone}
    tls: {tls}
"""


def test_bad_cron_and_timezone_are_reported():
    text = EMAIL.format(schedule="0 25 * * *", timezone="Asia/Karachy", tls="false")
    result = problems(text)
    assert result[0].startswith(
        "c.yaml:7: notifiers[0].schedule: invalid cron expression '0 25 * * *': "
    )
    assert result[1:] == [
        "c.yaml:8: notifiers[0].timezone: unknown time zone 'Asia/Karachy' (use an IANA name like "
        "Asia/Karachi)"
    ]
    assert problems(EMAIL.format(schedule="every morning", timezone="UTC", tls="false")) == [
        "c.yaml:7: notifiers[0].schedule: invalid cron expression 'every morning': expected 5 "
        "fields (minute hour day month weekday), e.g. '0 7 * * *'"
    ]


def test_tls_and_starttls_together_are_an_error():
    assert problems(EMAIL.format(schedule="0 7 * * *", timezone="UTC", tls="true")) == [
        "c.yaml:9: notifiers[0].tls: tls (implicit TLS, usually port 465) and starttls (usually "
        "port 587) exclude each other; set one of them to false"
    ]


def test_region_check_results_appear_at_the_regions_line():
    text = BASE.replace(
        "    notify: [soc]", "    regions: [Balochistan, Balochistn]\n    notify: [soc]"
    )

    def region_check(name: str) -> str | None:
        return (
            None
            if name == "Balochistan"
            else f"unknown region {name!r} (did you mean 'Balochistan'?)"
        )

    assert problems(text, region_check=region_check) == [
        "c.yaml:7: watches[0].regions[1]: unknown region 'Balochistn' (did you mean 'Balochistan'?)"
    ]
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
    gazetteer = pytest.importorskip("wirewatch.rules.gazetteer").Gazetteer.load()
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
