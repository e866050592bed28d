"""Logging for every command: plain text or JSON lines, with secrets redacted from each record.

`setup_logging(level, fmt)` installs one handler on the root logger (standard error).
Every record passes through `RedactingFilter` before it is formatted: the secrets of the
loaded config (`register_secrets(config)`, every `SecretStr`) and anything shaped like a
credential (Slack tokens, bearer tokens, `user:password@` in URLs, `password=...`) are
replaced by `***`. Components should never log a secret in the first place; the filter is
the safety net.

JSON lines carry `time`, `level`, `logger`, `message`, then whatever the call passed as
`extra={...}`; by convention `event` names what happened (`service.ready`,
`config.reloaded`, `alert.delivered`, ...). Text lines escape control characters in the
message, so that a hostile headline cannot forge a log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, SecretStr

from wirewatch import defaults

__all__ = [
    "REDACTOR",
    "JsonFormatter",
    "RedactingFilter",
    "Redactor",
    "TextFormatter",
    "config_secrets",
    "redact_error",
    "register_secrets",
    "setup_logging",
]

MASK = "***"
NOISY_LOGGERS = ("apscheduler", "sentence_transformers", "httpx", "trafilatura", "htmldate")
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)
# Shapes of credentials, whatever their source: (pattern, replacement).
_CREDENTIALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]+"), MASK),  # Slack bot/user/app tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + MASK),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(@)"), r"\1" + MASK + r"\2"),
    (
        re.compile(
            r"(?i)(?<![.\w])((?:password|passwd|secret|token|api[_-]?key|access[_-]?key)"
            r"(?:=|[\"']\s*:\s*[\"']))[^\s\"',;&)}\]]+"
        ),
        r"\1" + MASK,
    ),
)
# Control characters that would break a text line (tab kept), and Unicode line separators.
_LINE_BREAKERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class Redactor:
    """Replaces known secret values and credential-shaped text with `***`."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def set_secrets(self, values: Iterable[str]) -> None:
        """Replace the known secrets (each also searched for URL- and JSON-escaped)."""
        found: set[str] = set()
        for value in values:
            for part in (value, *_url_parts(value)):
                if len(part) >= defaults.LOG_SECRET_MIN_CHARS:
                    found.update({part, quote(part, safe=""), quote(part), json.dumps(part)[1:-1]})
        with self._lock:
            self._secrets = tuple(sorted(found, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in _CREDENTIALS:
            text = pattern.sub(replacement, text)
        return text


REDACTOR = Redactor()


def _url_parts(value: str) -> list[str]:
    """The secret-bearing parts of a secret URL (a webhook's path and query, its last
    path segment when long), which a message may show without the host."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return []
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []
    found = [parts.path + (f"?{parts.query}" if parts.query else "")] if len(parts.path) > 1 else []
    last = parts.path.rstrip("/").rpartition("/")[2]
    if len(last) >= 16:
        found.append(last)
    if parts.query:
        found.append(parts.query)
    return found


def config_secrets(model: Any) -> Iterator[str]:
    """Every `SecretStr` value inside a config model (nested models and lists included)."""
    if isinstance(model, SecretStr):
        yield model.get_secret_value()
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            yield from config_secrets(getattr(model, name))
    elif isinstance(model, list | tuple):
        for item in model:
            yield from config_secrets(item)


def register_secrets(config: Any) -> None:
    """Make the config's secrets known to the log filter (call again after a reload)."""
    secrets = list(config_secrets(config))
    storage = getattr(config, "storage", None)
    if storage is not None and (password := urlsplit(storage.url).password):
        secrets.append(password)  # a PostgreSQL URL's password
    REDACTOR.set_secrets(secrets)


def redact_error(text: str) -> str:
    """A delivery error (or a decision that quotes one) as /healthz and the commands show
    it: the known secrets and credential shapes replaced by `***`, and every URL in it cut
    to `scheme://host[:port]/…` (a receiver's URL is a secret: Discord, Teams, Zapier and
    Slack keep the token in its path). Errors stored before they were written so are
    cleaned here too."""
    from wirewatch.notifiers.base import hide_url

    return REDACTOR.redact(hide_url(text))


class RedactingFilter(logging.Filter):
    """Renders each record's message (and traceback) once and redacts it; never drops one."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self.redactor.redact
        try:
            message = record.getMessage()
        except Exception:  # bad format arguments: keep what can be shown
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, _redact_value(value, redact))
        return True


def _redact_value(value: Any, redact: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redact_value(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v, redact) for k, v in value.items()}
    return value


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """What the logging call passed in `extra={...}`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line (non-ASCII escaped, so no character can split a line)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in extras(record).items() if k not in entry)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """`TIME LEVEL logger: message`, control characters in the message shown escaped."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _LINE_BREAKERS.sub(_escape_char, record.message)
        return super().formatMessage(record)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r"}.get(char, f"\\u{ord(char):04x}")


def setup_logging(level: str = "info", fmt: str = defaults.LOG_FORMAT) -> None:
    """Log to standard error as text or JSON lines, redacted; replaces earlier set-ups."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_exception


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("wirewatch").critical(
        "uncaught exception", exc_info=(kind, exc, tb), extra={"event": "crash"}
    )


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    logging.getLogger("wirewatch").error(
        "uncaught exception in thread %s",
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        extra={"event": "thread.crash"},
    )
