"""The config file: YAML → validated `Config`, problems as `FILE:LINE: field.path: message`."""

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
    "check_config",
    "config_path_from",
    "load_config",
    "load_config_text",
]
