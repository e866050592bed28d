"""The configuration file's schema: pydantic v2 models, one per YAML section.

Field names are the YAML keys (`from` is `from_` in Python). Unknown keys are errors
(`extra="forbid"`). Durations are stored as float seconds and sizes as int bytes; every
default comes from `wirewatch.defaults`. Models are not frozen: the demo points
`storage.url` elsewhere after loading. The field types are in `types.py`, the notifiers'
models in `notifiers.py`.
"""

# Pydantic copies a mutable default (`= []`) per instance; ruff cannot tell that `Section`,
# imported from types.py, is a pydantic model.
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wirewatch import defaults
from wirewatch.config.notifiers import NotifierConfig
from wirewatch.config.types import (
    Duration,
    Fraction,
    HttpUrl,
    Listen,
    Name,
    NonEmpty,
    PasswordHash,
    Role,
    Section,
    Size,
    at_least,
    split_listen,
)

__all__ = [
    "SECTION_MODELS",
    "Config",
    "CrawlerConfig",
    "ModelConfig",
    "OutletConfig",
    "ServerConfig",
    "StorageConfig",
    "UserConfig",
    "WatchConfig",
    "WatchPlaceConfig",
    "sqlite_file",
]

SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_SCHEMES = ("postgresql", "postgres")
STORAGE_URL_FORMS = (
    "sqlite:///relative.db, sqlite:////absolute/path.db, sqlite:///:memory: or "
    "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
)


# ---- sections --------------------------------------------------------------------------------
class StorageConfig(Section):
    """Where the store lives: a SQLite file (one instance) or a PostgreSQL database (one or
    several instances sharing the work)."""

    url: str = defaults.STORAGE_URL
    # several instances on one PostgreSQL database: this one's name (default: host-pid) and
    # how long an alert it began to send stays its own if it dies meanwhile
    instance: Name | None = None
    claim_timeout: Annotated[Duration, at_least(1)] = defaults.OUTBOX_CLAIM_S

    @field_validator("url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not is_postgresql(value):
            sqlite_file(value)
        return value

    @property
    def engine(self) -> str:
        return "postgresql" if is_postgresql(self.url) else "sqlite"

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file (`sqlite:///rel.db` → `rel.db`, `sqlite:////abs.db` → `/abs.db`);
        None for PostgreSQL."""
        return None if is_postgresql(self.url) else sqlite_file(self.url)

    @property
    def target(self) -> str:
        """What `Store` opens: the SQLite path or the PostgreSQL URL."""
        return self.url if is_postgresql(self.url) else sqlite_file(self.url)


def is_postgresql(url: str) -> bool:
    """A `postgresql://` URL with a host and a database (a ValueError when it lacks one)."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRESQL_SCHEMES:
        return False
    try:
        parts.port  # noqa: B018 (a bad port raises)
    except ValueError as exc:
        raise ValueError(f"unsupported storage URL: {exc}") from None
    if not parts.hostname or not parts.path.strip("/"):
        raise ValueError(
            "a PostgreSQL storage URL needs a host and a database: "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    return True


def sqlite_file(url: str) -> str:
    if not url.startswith(SQLITE_PREFIX) or len(url) == len(SQLITE_PREFIX):
        shown = redact_password(url)
        raise ValueError(f"unsupported storage URL {shown!r}: use {STORAGE_URL_FORMS}")
    return url[len(SQLITE_PREFIX) :]


def redact_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


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
    event_loop: Literal["uvloop", "asyncio"] = defaults.EVENT_LOOP  # type: ignore[assignment]


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
    event: Literal["auto", "attack", "coordinated_attack", "internet_shutdown", "none"] = (
        defaults.WATCH_EVENT  # type: ignore[assignment]
    )
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


class UserConfig(Section):
    """A dashboard user: `viewer` reads, `analyst` also mutes, silences and tries watches,
    `admin` also retries deliveries."""

    name: Name
    password_hash: PasswordHash
    role: Role = "viewer"


class ServerConfig(Section):
    listen: Listen = defaults.SERVER_LISTEN
    dashboard: bool = defaults.DASHBOARD_ENABLED
    users: list[UserConfig] = []
    session_secret: SecretStr | None = None  # signs session cookies; absent: new at each start
    session_max_age: Annotated[Duration, at_least(60)] = defaults.DASHBOARD_SESSION_MAX_AGE_S

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


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
