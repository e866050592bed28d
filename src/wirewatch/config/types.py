"""Reusable field types of the config file, and the base model of every section.

Durations are float seconds (`30s`, `5m`, `1h30m`, or a number), sizes int bytes (`512KB`,
`5MB`); names are slugs; URLs, e-mail addresses, time zones, cron lines and listen
addresses are checked as they are read. Each check raises ValueError with the message a
user sees after `field.path:`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

from wirewatch import defaults

__all__ = [
    "DURATION_HINT",
    "SIZE_HINT",
    "Address",
    "Cron",
    "Duration",
    "Fraction",
    "HttpUrl",
    "Listen",
    "Name",
    "NonEmpty",
    "PasswordHash",
    "Role",
    "SecretHttpUrl",
    "Section",
    "Size",
    "TimeZone",
    "at_least",
    "check_cron",
    "check_timezone",
    "format_duration",
    "http_url",
    "is_loopback",
    "model_keys",
    "parse_duration",
    "parse_size",
    "split_listen",
    "type_name",
]

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


def _secret_http_url(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL (the value is not shown)")
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


def _address(value: str) -> str:
    if not _EMAIL.fullmatch(value.strip()):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


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


def _timezone(value: str) -> str:
    check_timezone(value)
    return value


def _cron(value: str) -> str:
    check_cron(value)
    return value


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


def is_loopback(host: str) -> bool:
    """Whether a listen host only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost: it may resolve to anything


def _argon2_hash(value: str) -> str:
    if not value.startswith("$argon2"):
        raise ValueError(
            "expected an argon2 password hash ($argon2id$...), such as "
            "`wirewatch hash-password` prints; never the password itself"
        )
    return value


def _listen(value: Any) -> Any:
    """A bare port number means 127.0.0.1:PORT; strings must split into host and port."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"127.0.0.1:{value}"
    if isinstance(value, str):
        split_listen(value)
    return value


# ---- field types -----------------------------------------------------------------------------
Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]
Name = Annotated[str, AfterValidator(_slug)]
Fraction = Annotated[float, AfterValidator(_unit_interval)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
SecretHttpUrl = Annotated[SecretStr, AfterValidator(_secret_http_url)]  # never shown in errors
NonEmpty = Annotated[str, Field(min_length=1)]
Address = Annotated[str, AfterValidator(_address)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Cron = Annotated[str, AfterValidator(_cron)]
Listen = Annotated[str, BeforeValidator(_listen)]
PasswordHash = Annotated[str, AfterValidator(_argon2_hash)]
Role = Literal["viewer", "analyst", "admin"]


# ---- sections --------------------------------------------------------------------------------
class Section(BaseModel):
    """Base of every section: unknown keys are errors; aliases and names both accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def model_keys(model: type[BaseModel]) -> list[str]:
    """The YAML keys a model accepts (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]
