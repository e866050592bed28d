"""The pydantic models on their own: defaults, parsing of durations, sizes and addresses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wirewatch import defaults
from wirewatch.config.notifiers import EmailConfig, WebhookConfig
from wirewatch.config.schema import Config, ServerConfig, StorageConfig
from wirewatch.config.types import parse_duration, parse_size

EMAIL = {"name": "digest", "type": "email", "host": "smtp.example.org", "from": "w@example.org",
         "to": ["soc@example.org"], "schedule": "0 7 * * *"}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(30, 30.0), (1.5, 1.5), ("45", 45.0), ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0),
     ("2d", 172800.0), ("1h30m", 5400.0), (" 1h 30m ", 5400.0), ("250ms", 0.25), ("0s", 0.0)],
)  # fmt: skip
def test_durations_become_float_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "m", "1x", "-5s", "", "nan", "inf", True, [1]])
def test_bad_durations_are_rejected(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [(1000, 1000), ("512KB", 512 * 1024), ("5MB", 5 * 1024 * 1024), ("5 MiB", 5 * 1024 * 1024),
     ("1GB", 1024**3), ("100", 100)],
)  # fmt: skip
def test_sizes_accept_bytes_and_units(text, size):
    assert parse_size(text) == size


def test_an_empty_config_gets_every_default():
    config = Config()
    assert config.storage.url == defaults.STORAGE_URL
    assert config.model.name == defaults.MODEL_NAME
    assert config.model.device == "cpu"
    assert config.model.batch_size == defaults.ENCODE_BATCH_SIZE
    crawler = config.crawler
    assert crawler.feed_max_bytes == defaults.FEED_MAX_BYTES
    assert crawler.page_max_bytes == defaults.PAGE_MAX_BYTES
    assert crawler.total_timeout == defaults.TOTAL_TIMEOUT_S
    assert crawler.respect_robots is True
    assert crawler.allow_private_addresses is False
    assert config.outlets == config.watches == config.notifiers == []
    assert config.server is None


def test_outlet_and_watch_defaults_come_from_defaults_module():
    config = Config.model_validate({
        "outlets": [{"name": "dawn", "feed": "https://www.dawn.com/feeds/home"}],
        "watches": [{"name": "w", "topic": "t"}],
    })  # fmt: skip
    outlet, watch = config.outlets[0], config.watches[0]
    assert outlet.interval == defaults.POLL_INTERVAL_S
    assert outlet.backfill == defaults.BACKFILL_S
    assert outlet.fetch_articles is True and outlet.enabled is True
    assert watch.threshold == defaults.WATCH_THRESHOLD
    assert watch.story_window == defaults.STORY_WINDOW_S
    assert watch.group_wait == defaults.GROUP_WAIT_S
    assert watch.update_interval == defaults.UPDATE_INTERVAL_S
    assert watch.exclude_threshold is None
    assert watch.notify == watch.regions == watch.examples == watch.exclude == []


@pytest.mark.parametrize(
    ("url", "path"),
    [("sqlite:///wirewatch.db", "wirewatch.db"), ("sqlite:////var/lib/w.db", "/var/lib/w.db"),
     ("sqlite:///:memory:", ":memory:")],
)  # fmt: skip
def test_sqlite_path(url, path):
    assert StorageConfig(url=url).sqlite_path == path


def test_storage_takes_postgresql_urls_and_rejects_other_databases():
    storage = StorageConfig(url="postgresql://ww:secret@db.internal:5433/wirewatch")
    assert (storage.engine, storage.sqlite_path) == ("postgresql", None)
    assert storage.target == "postgresql://ww:secret@db.internal:5433/wirewatch"
    with pytest.raises(ValidationError, match=r"use sqlite:///.*postgresql://USER") as caught:
        StorageConfig(url="mysql://ww:secret@db/wirewatch")
    message = caught.value.errors()[0]["msg"]  # what `check` prints
    assert "mysql://ww:***@db/wirewatch" in message and "secret" not in message
    with pytest.raises(ValidationError, match="needs a host and a database"):
        StorageConfig(url="postgresql://db.internal")


def test_storage_stays_assignable():
    storage = StorageConfig()
    storage.url = "sqlite:////tmp/demo.db"
    assert storage.sqlite_path == "/tmp/demo.db"


@pytest.mark.parametrize(
    ("listen", "host", "port"),
    [("127.0.0.1:9464", "127.0.0.1", 9464), ("[::1]:80", "::1", 80), (":9000", "0.0.0.0", 9000),
     (9464, "127.0.0.1", 9464)],
)  # fmt: skip
def test_server_listen_gives_host_and_port(listen, host, port):
    server = ServerConfig(listen=listen)
    assert (server.host, server.port) == (host, port)


@pytest.mark.parametrize("listen", ["localhost", "host:http", "1.2.3.4:70000", "::1:80"])
def test_bad_listen_addresses_are_rejected(listen):
    with pytest.raises(ValidationError, match="invalid listen address"):
        ServerConfig(listen=listen)


def test_email_from_alias_and_defaults():
    email = EmailConfig.model_validate(EMAIL)
    assert email.from_ == "w@example.org"
    assert (email.port, email.starttls, email.tls, email.timezone) == (587, True, False, "UTC")
    assert email.subject == defaults.DIGEST_SUBJECT
    assert email.send_empty is False


@pytest.mark.parametrize(
    ("change", "message"),
    [({"tls": True}, "exclude each other"), ({"timezone": "Mars/Olympus"}, "unknown time zone"),
     ({"schedule": "0 25 * * *"}, "invalid cron"), ({"to": []}, "at least 1")],
)  # fmt: skip
def test_email_rejects_bad_settings(change, message):
    with pytest.raises(ValidationError, match=message):
        EmailConfig.model_validate({**EMAIL, **change})


def test_secrets_are_hidden_in_repr_and_readable_on_purpose():
    hook = "https://discord.com/api/webhooks/42/T0KEN"  # the token is in the path
    config = Config.model_validate({"notifiers": [
        {"name": "s", "type": "slack", "token": "xoxb-very-secret", "channel": "#c"},
        {"name": "h", "type": "webhook", "url": hook, "secret": "hmac-secret-16byte"},
    ]})  # fmt: skip
    assert "very-secret" not in repr(config) and "hmac-secret" not in repr(config)
    assert "T0KEN" not in repr(config) and "T0KEN" not in str(config)
    assert config.notifiers[0].token.get_secret_value() == "xoxb-very-secret"
    assert config.notifiers[1].url.get_secret_value() == hook


@pytest.mark.parametrize("secret", ["", "a", "fifteen-bytes!!", "ééééééé"])  # 14 bytes in UTF-8
def test_a_webhook_secret_shorter_than_16_bytes_is_refused(secret):
    with pytest.raises(ValidationError, match="must be at least 16 bytes"):
        WebhookConfig(name="h", url="https://siem.example.org/hook", secret=secret)
    assert WebhookConfig(name="h", url="https://siem.example.org/hook", secret="x" * 16).secret
    assert WebhookConfig(name="h", url="https://siem.example.org/hook").secret is None


def test_equal_configs_compare_equal_for_reload():
    data = {"watches": [{"name": "w", "topic": "t", "notify": []}]}
    assert Config.model_validate(data) == Config.model_validate(data)
    assert Config.model_validate(data) != Config()
