"""Everything the service, the demo and the commands build from a Config: the store, the
matcher, the notifiers and digests, and the config itself checked against the gazetteer."""

from __future__ import annotations

from pathlib import Path

from wirewatch.config.loader import ConfigError, load_config
from wirewatch.config.notifiers import EmailConfig
from wirewatch.config.schema import Config
from wirewatch.notifiers import Notifier, build_notifier, is_digest
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.store import Store


def open_store(config: Config) -> Store:
    return Store(config.storage.sqlite_path)


def build_matcher(config: Config) -> Matcher:
    encoder = Encoder(config.model.name, config.model.device, batch_size=config.model.batch_size)
    return Matcher(config.watches, encoder, Gazetteer.load())


def build_notifiers(config: Config) -> dict[str, Notifier]:
    """One notifier per alert receiver; email digests are sent by `build_digests` instead."""
    return {n.name: build_notifier(n) for n in config.notifiers if not is_digest(n)}


def build_digests(config: Config) -> dict[str, EmailDigestNotifier]:
    return {n.name: EmailDigestNotifier(n) for n in digest_configs(config)}


def digest_configs(config: Config) -> list[EmailConfig]:
    """The `notifiers:` entries delivered as scheduled digests."""
    return [n for n in config.notifiers if is_digest(n)]  # type: ignore[misc]


def region_checker() -> RegionChecker:
    """What `check` and `run` use to reject region names the gazetteer does not know."""
    return RegionChecker()


class RegionChecker:
    """A region name's problem, or None: unknown (with suggestions), or, for a watch's own
    `places`, a group, which has no one country or division to put a place in."""

    def __init__(self) -> None:
        self.gazetteer = Gazetteer.load()

    def __call__(self, name: str) -> str | None:
        if self.gazetteer.resolve_region(name) is not None:
            return None
        suggestions = self.gazetteer.suggest(name)
        hint = (
            f" (did you mean {' or '.join(repr(s) for s in suggestions[:3])}?)"
            if suggestions
            else ""
        )
        return f"unknown region {name!r}{hint}"

    def for_place(self, name: str) -> str | None:
        region = self.gazetteer.resolve_region(name)
        if region is None:
            return self(name)
        if region.kind == "group":
            return (
                f"{region.name} is a group of regions: name the country or division the place "
                "is in ({name: …, region: …})"
            )
        return None


def load_checked(path: Path, *, check_regions: bool = True) -> tuple[Config | None, list[str]]:
    """(config, []) when the file is valid, else (None, every problem as FILE:LINE: ...)."""
    try:
        return load_config(path, region_check=region_checker() if check_regions else None), []
    except ConfigError as exc:
        return None, [str(problem) for problem in exc.problems]
    except (OSError, ValueError) as exc:
        return None, [f"wirewatch: {exc}"]
