"""The configuration file's schema: pydantic v2 models, one per YAML section.

Field names are the YAML keys (`from` is `from_` in Python). Unknown keys are errors
(`extra="forbid"`). Durations are stored as float seconds and sizes as int bytes; every
default comes from `wirewatch.defaults`. Models are not frozen: the demo points
`storage.url` elsewhere after loading.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wirewatch import defaults

__all__ = [
    "Config",
    "CrawlerConfig",
    "EmailConfig",
    "ModelConfig",
    "NotifierConfig",
    "OutletConfig",
    "ServerConfig",
    "SlackConfig",
    "SlackWebhookConfig",
    "StorageConfig",
    "TerminalConfig",
    "WatchConfig",
    "WatchPlaceConfig",
    "WebhookConfig",
    "parse_duration",
    "parse_size",
]

NOTIFIER_TYPES = ("slack", "slack_webhook", "email", "webhook", "terminal")
SQLITE_PREFIX = "sqlite:///"

# ---- value parsers ---------------------------------------------------------------------------
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)
_DURATION_FULL = re.compile(r"(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": defaults.KB, "kb": defaults.KB, "kib": defaults.KB,
    "m": defaults.MB, "mb": defaults.MB, "mib": defaults.MB,
    "g": 1024 * defaults.MB, "gb": 1024 * defaults.MB, "gib": 1024 * defaults.MB,
}  # fmt: skip
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)
_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
DURATION_HINT = "use seconds or a number with a unit: 30s, 5m, 1h, 2d, 1h30m"
SIZE_HINT = "use bytes or a number with a unit: 512KB, 5MB, 1GB"


def _check_number(value: float, what: str) -> float:
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"{what} must be a finite number ≥ 0, got {value!r}")
    return float(value)


def parse_duration(value: Any) -> float:
    """Seconds from an int/float or a string like `30s`, `5m`, `1h30m`, `2d`, `90`."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got a boolean; {DURATION_HINT}")
    if isinstance(value, int | float):
        return _check_number(float(value), "a duration")
    if not isinstance(value, str):
        raise ValueError(f"expected a duration, got {type_name(value)}; {DURATION_HINT}")
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        return _check_number(seconds, "a duration")
    if not _DURATION_FULL.fullmatch(text):
        raise ValueError(f"invalid duration {value!r}: {DURATION_HINT}")
    return sum(float(n) * _DURATION_UNITS[u.lower()] for n, u in _DURATION_PART.findall(text))


def parse_size(value: Any) -> Any:
    """Bytes from an int or a string like `512KB`, `5MB`, `1GiB` (binary units)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size, got a boolean; {SIZE_HINT}")
    if not isinstance(value, str):
        return value  # ints (and errors for other types) are pydantic's
    match = _SIZE.fullmatch(value.strip())
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"invalid size {value!r}: {SIZE_HINT}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def type_name(value: Any) -> str:
    """How a YAML user would call the type of a parsed value."""
    names = {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "a mapping", type(None): "nothing (null)",
    }  # fmt: skip
    return names.get(type(value), type(value).__name__)


def at_least(minimum: float, *, strict: bool = False) -> AfterValidator:
    """A check that a duration is ≥ minimum (> minimum when strict) and ≤ MAX_DURATION_S."""

    def check(value: float) -> float:
        if value < minimum or (strict and value == minimum):
            relation = "longer than" if strict else "at least"
            raise ValueError(f"must be {relation} {format_duration(minimum)}")
        if value > defaults.MAX_DURATION_S:
            raise ValueError(f"must be at most {format_duration(defaults.MAX_DURATION_S)}")
        return value

    return AfterValidator(check)


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def http_url(value: str) -> str:
    """`value` if it is an absolute http(s) URL with a host; ValueError otherwise."""
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or any(c.isspace() for c in value):
        raise ValueError(f"must be an absolute http:// or https:// URL, got {value!r}")
    return value


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(
            f"invalid name {value!r}: use lowercase letters, digits and - _ . "
            "(starting with a letter or digit)"
        )
    return value


def _unit_interval(value: float) -> float:
    if not 0 < value < 1:
        raise ValueError(f"must be between 0 and 1 (exclusive), got {value:g}")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]
Name = Annotated[str, AfterValidator(_slug)]
Fraction = Annotated[float, AfterValidator(_unit_interval)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors; aliases and names both accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---- sections --------------------------------------------------------------------------------
class StorageConfig(Section):
    url: str = defaults.STORAGE_URL

    @field_validator("url")
    @classmethod
    def _sqlite_only(cls, value: str) -> str:
        sqlite_file(value)
        return value

    @property
    def sqlite_path(self) -> str:
        """The SQLite file (`sqlite:///rel.db` → `rel.db`, `sqlite:////abs.db` → `/abs.db`)."""
        return sqlite_file(self.url)


def sqlite_file(url: str) -> str:
    if not url.startswith(SQLITE_PREFIX) or len(url) == len(SQLITE_PREFIX):
        raise ValueError(
            f"unsupported storage URL {url!r}: only SQLite is supported, as sqlite:///relative.db, "
            "sqlite:////absolute/path.db or sqlite:///:memory:"
        )
    return url[len(SQLITE_PREFIX) :]


class ModelConfig(Section):
    name: NonEmpty = defaults.MODEL_NAME
    device: Literal["cpu", "cuda", "auto"] = defaults.MODEL_DEVICE  # type: ignore[assignment]
    batch_size: int = Field(defaults.ENCODE_BATCH_SIZE, gt=0)


class CrawlerConfig(Section):
    user_agent: NonEmpty = defaults.USER_AGENT
    allow_private_addresses: bool = defaults.ALLOW_PRIVATE_ADDRESSES
    respect_robots: bool = defaults.RESPECT_ROBOTS
    concurrency: int = Field(defaults.GLOBAL_CONCURRENCY, gt=0)
    per_host_concurrency: int = Field(defaults.PER_HOST_CONCURRENCY, gt=0)
    per_host_delay: Annotated[Duration, at_least(0)] = defaults.PER_HOST_DELAY_S
    connect_timeout: Annotated[Duration, at_least(0, strict=True)] = defaults.CONNECT_TIMEOUT_S
    read_timeout: Annotated[Duration, at_least(0, strict=True)] = defaults.READ_TIMEOUT_S
    total_timeout: Annotated[Duration, at_least(0, strict=True)] = defaults.TOTAL_TIMEOUT_S
    max_redirects: int = Field(defaults.MAX_REDIRECTS, ge=0)
    feed_max_bytes: Size = defaults.FEED_MAX_BYTES
    page_max_bytes: Size = defaults.PAGE_MAX_BYTES


class OutletConfig(Section):
    name: Name
    feed: HttpUrl
    interval: Annotated[Duration, at_least(defaults.MIN_POLL_INTERVAL_S)] = defaults.POLL_INTERVAL_S
    fetch_articles: bool = defaults.FETCH_ARTICLES
    backfill: Annotated[Duration, at_least(0)] = defaults.BACKFILL_S
    enabled: bool = defaults.OUTLET_ENABLED
    language: NonEmpty | None = None


def _place_shorthand(value: Any) -> Any:
    """`- Tirah` is short for `- {name: Tirah}`."""
    return {"name": value} if isinstance(value, str) else value


class WatchPlaceConfig(Section):
    """A name that counts as a place inside a region (`watches[].places`): a locality the
    gazetteer lacks, or the watch's own spelling of a known place."""

    name: Annotated[str, Field(min_length=2)]
    region: NonEmpty | None = None  # a region name as in `regions`; default: the watch's only one


WatchPlace = Annotated[WatchPlaceConfig, BeforeValidator(_place_shorthand)]


class WatchConfig(Section):
    name: Name
    topic: NonEmpty
    description: str = ""
    examples: list[str] = []
    exclude: list[str] = []
    regions: list[NonEmpty] = []
    places: list[WatchPlace] = []
    threshold: Fraction = defaults.WATCH_THRESHOLD
    exclude_threshold: Fraction | None = None
    include_opinion: bool = defaults.WATCH_INCLUDE_OPINION
    notify: list[str] = []
    story_window: Annotated[Duration, at_least(0, strict=True)] = defaults.STORY_WINDOW_S
    group_wait: Annotated[Duration, at_least(0)] = defaults.GROUP_WAIT_S
    update_interval: Annotated[Duration, at_least(0)] = defaults.UPDATE_INTERVAL_S

    @field_validator("places")
    @classmethod
    def _places_have_a_region(
        cls, places: list[WatchPlaceConfig], info: ValidationInfo
    ) -> list[WatchPlaceConfig]:
        regions = info.data.get("regions") or []
        if places and not regions:
            raise ValueError("places only apply to a watch with regions: add `regions`")
        for place in places:
            if place.region is None:
                if len(regions) > 1:
                    raise ValueError(
                        f"say which region {place.name!r} is in "
                        f"(`{{name: {place.name}, region: …}}`): the watch has several"
                    )
                place.region = regions[0]
        return places


def _address(value: str) -> str:
    if not _EMAIL.fullmatch(value.strip()):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


# ---- notifiers -------------------------------------------------------------------------------
Address = Annotated[str, AfterValidator(_address)]

# How long a notifier's deliveries may keep failing before they are dead-lettered.
DeadAfter = Annotated[Duration, at_least(60)]


class SlackConfig(Section):
    name: Name
    type: Literal["slack"] = "slack"
    token: SecretStr
    channel: NonEmpty
    base_url: HttpUrl | None = None
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S


class SlackWebhookConfig(Section):
    name: Name
    type: Literal["slack_webhook"] = "slack_webhook"
    url: SecretStr
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S

    @field_validator("url")
    @classmethod
    def _http(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL (the value is not shown)")
        return value


class EmailConfig(Section):
    name: Name
    type: Literal["email"] = "email"
    host: NonEmpty
    port: int = Field(defaults.EMAIL_PORT, ge=1, le=65535)
    starttls: bool = defaults.EMAIL_STARTTLS
    tls: bool = defaults.EMAIL_TLS
    username: str | None = None
    password: SecretStr | None = None
    from_: Address = Field(alias="from")
    to: list[Address] = Field(min_length=1)
    schedule: str
    timezone: str = defaults.EMAIL_TIMEZONE
    subject: str = defaults.DIGEST_SUBJECT
    send_empty: bool = defaults.DIGEST_SEND_EMPTY
    timeout: Annotated[Duration, at_least(0, strict=True)] | None = None
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        check_timezone(value)
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        check_cron(value)
        return value

    @model_validator(mode="after")
    def _one_tls_mode(self) -> EmailConfig:
        if self.tls and self.starttls:
            raise PydanticCustomError(
                "config_field",
                "{message}",
                {
                    "field": "tls",
                    "message": "tls (implicit TLS, usually port 465) and starttls (usually port "
                    "587) exclude each other; set one of them to false",
                },
            )
        return self


def check_timezone(name: str) -> None:
    """ValueError unless `name` is an IANA time zone such as `Asia/Karachi` or `UTC`."""
    try:
        ZoneInfo(name)
    except Exception:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Asia/Karachi)"
        ) from None


def check_cron(expression: str) -> None:
    """ValueError unless `expression` is a 5-field crontab line such as `0 7 * * 1-5`."""
    from apscheduler.triggers.cron import CronTrigger

    if len(expression.split()) != 5:
        raise ValueError(
            f"invalid cron expression {expression!r}: expected 5 fields "
            "(minute hour day month weekday), e.g. '0 7 * * *'"
        )
    try:
        CronTrigger.from_crontab(expression, timezone="UTC")
    except Exception as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None


class WebhookConfig(Section):
    name: Name
    type: Literal["webhook"] = "webhook"
    url: HttpUrl
    secret: SecretStr | None = None
    timeout: Annotated[Duration, at_least(0, strict=True)] | None = None
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S


class TerminalConfig(Section):
    name: Name
    type: Literal["terminal"] = "terminal"
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S


NotifierConfig = Annotated[
    SlackConfig | SlackWebhookConfig | EmailConfig | WebhookConfig | TerminalConfig,
    Field(discriminator="type"),
]


class ServerConfig(Section):
    listen: str = defaults.SERVER_LISTEN

    @field_validator("listen", mode="before")
    @classmethod
    def _host_port(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"127.0.0.1:{value}"
        if isinstance(value, str):
            split_listen(value)
        return value

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


def split_listen(value: str) -> tuple[str, int]:
    """(host, port) from `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces)."""
    host, sep, port = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = "-"  # a bare IPv6 address: brackets are needed
    valid = sep and port.isascii() and port.isdigit() and int(port) <= 65535
    if not valid or host == "-" or any(c.isspace() for c in host):
        raise ValueError(
            f"invalid listen address {value!r}: expected HOST:PORT such as 127.0.0.1:9464"
        )
    return host or "0.0.0.0", int(port)


# ---- the whole file --------------------------------------------------------------------------
class Config(Section):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    crawler: CrawlerConfig = Field(default_factory=CrawlerConfig)
    outlets: list[OutletConfig] = []
    watches: list[WatchConfig] = []
    notifiers: list[NotifierConfig] = []
    server: ServerConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """`outlets:` with nothing under it means none; an empty `storage:` means defaults."""
        if not isinstance(data, dict):
            return data
        cleaned = {k: v for k, v in data.items() if v is not None or k == "server"}
        return cleaned

    def notifier(self, name: str) -> Any:
        """The notifier config called `name` (KeyError if none)."""
        for notifier in self.notifiers:
            if notifier.name == name:
                return notifier
        raise KeyError(name)


# Which model describes the mapping at a path: used to suggest keys for unknown ones.
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "storage": StorageConfig,
    "model": ModelConfig,
    "crawler": CrawlerConfig,
    "outlets": OutletConfig,
    "watches": WatchConfig,
    "server": ServerConfig,
}
NOTIFIER_MODELS: dict[str, type[BaseModel]] = {
    "slack": SlackConfig,
    "slack_webhook": SlackWebhookConfig,
    "email": EmailConfig,
    "webhook": WebhookConfig,
    "terminal": TerminalConfig,
}


def model_keys(model: type[BaseModel]) -> list[str]:
    """The YAML keys a model accepts (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]
