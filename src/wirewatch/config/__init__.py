"""The config file: YAML → validated `Config`, problems as `FILE:LINE: field.path: message`.

types.py      reusable field types (durations, sizes, names, URLs, cron, listen addresses)
schema.py     `Config` and its sections: storage, model, crawler, outlets, watches, server
notifiers.py  the notifier types: one model each, and the discriminated union on `type`
loader.py     YAML → `Config`: line numbers, `${ENV}`, pydantic errors → `Problem`s
checks.py     the checks across sections: unique names, `notify` references, regions
"""

from wirewatch.config.checks import RegionCheck
from wirewatch.config.loader import (
    ConfigError,
    Problem,
    check_config,
    config_path_from,
    load_config,
    load_config_text,
)
from wirewatch.config.schema import Config

__all__ = [
    "Config",
    "ConfigError",
    "Problem",
    "RegionCheck",
    "check_config",
    "config_path_from",
    "load_config",
    "load_config_text",
]
