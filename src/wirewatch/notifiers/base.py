"""The notifier interface and the HTTP status rules every receiver shares."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

import aiohttp

from wirewatch import defaults
from wirewatch.models import Alert, DeliveryResult
from wirewatch.util import parse_retry_after

# What a failed connection looks like: worth trying again later.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)


class Notifier(ABC):
    """A receiver of alerts. `send` never raises for delivery problems: it returns why."""

    name: str
    dead_after_s: float | None = None  # the config's `dead_after`; None: the worker's default

    @abstractmethod
    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult:
        """Deliver one alert.

        `thread_ref` is the `remote_ref` this notifier returned for the story's first
        delivery (e.g. the Slack parent `ts`), or None for a new story.
        """

    async def close(self) -> None:  # noqa: B027 - most notifiers hold nothing to close
        """Release connections; the notifier is not used afterwards."""


@runtime_checkable
class FindsDelivered(Protocol):
    """An optional capability: the receiver can tell whether an alert whose send was cut
    short (the process killed mid-send) arrived after all, so that it is not sent twice."""

    async def find_delivered(
        self, alert: Alert, thread_ref: str | None, since: datetime
    ) -> str | None:
        """The alert's `remote_ref` if it arrived after `since`, else None."""


def secret_value(value: object) -> str | None:
    """The plain text of a pydantic `SecretStr`, a plain `str` or a URL object (None stays None)."""
    if value is None:
        return None
    unwrap = getattr(value, "get_secret_value", None)
    return str(unwrap() if callable(unwrap) else value)


def header(headers: Mapping[str, Any], name: str) -> str | None:
    """A header's (first) value, whatever the case of its name; list values are unwrapped."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value


# The receiver refuses us, not this alert: a wrong secret, token or URL that an operator
# fixes. Retried like an outage, so that the alerts still go out once the config is right.
OPERATOR_STATUSES = frozenset({401, 403, 404})
OPERATOR_HINT = "fix the notifier's config; alerts wait in the outbox"


def classify_http_status(
    status: int, headers: Mapping[str, Any], *, detail: str | None = None
) -> DeliveryResult:
    """2xx ok; 408, 429 and 5xx retryable (Retry-After honoured); 401, 403 and 404 retryable
    too (the config is wrong, not the alert: see OPERATOR_STATUSES); any other status is
    permanent (the receiver rejects this alert: 400, 410, 413, 422, redirects...).

    `detail` (e.g. the receiver's error text) is appended to the error message.
    """
    if 200 <= status < 300:
        return DeliveryResult.success()
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unknown status"
    error = f"HTTP {status} {phrase}" + (f": {detail}" if detail else "")
    if status in (408, 429) or 500 <= status < 600:
        retry_after = parse_retry_after(header(headers, "Retry-After"))
        return DeliveryResult.failure(error, retryable=True, retry_after=retry_after)
    if status in OPERATOR_STATUSES:
        return DeliveryResult.failure(f"{error} ({OPERATOR_HINT})", retryable=True)
    return DeliveryResult.failure(error, retryable=False)


def connection_failure(
    receiver: str, exc: BaseException, *, timeout: float | None = None, url: str | None = None
) -> DeliveryResult:
    """A retryable failure for a connection error or timeout.

    `url` is the address that was asked: whatever of it the exception's text repeats is
    hidden (see `hide_url`). A URL the HTTP client cannot read is a config problem, said
    without the URL: aiohttp's message for it is the whole URL, token and all.
    """
    if isinstance(exc, TimeoutError):
        reason = f"timed out after {timeout:g} s" if timeout else "timed out"
    elif isinstance(exc, aiohttp.InvalidURL):
        reason = f"the notifier's URL is not a valid URL ({OPERATOR_HINT})"
    else:
        reason = str(exc) or type(exc).__name__
    error = f"could not reach {receiver}: {reason}"
    return DeliveryResult.failure(hide_url(error, url), retryable=True)


def describe_url(url: str) -> str:
    """What an error message may show of a notifier's URL: `scheme://host[:port]/…`.

    Discord, Teams, Zapier and Slack keep the token in the path, so the path is never shown
    (nor the query, nor user info); "the receiver" when `url` cannot be read.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the receiver"
    if not host or not parts.scheme:
        return "the receiver"
    hidden = "/…" if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


# A URL inside an error text (an exception's or a receiver's answer).
_URL_IN_TEXT = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")


def _looks_secret(piece: str) -> bool:
    """A path segment or query value that may be a token (digits, mixed case or long), not
    a word such as `services` or `hooks` that error texts use too."""
    return len(piece) >= 6 and (
        any(c.isdigit() for c in piece)
        or len(piece) >= 16
        or (piece.lower() != piece and piece.upper() != piece)
    )


def _secret_parts(url: str) -> list[str]:
    """What an error text must not repeat of `url`: the URL, everything after its host, its
    path, query and user info, and its token-like pieces; as written and percent-decoded,
    longest first."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        whole = [parts.path, parts.query, parts.fragment, parts.password or ""]
        pieces = [*parts.path.split("/"), *re.split(r"[&=;]", parts.query)]
        whole.append(url.split(parts.netloc, 1)[-1] if parts.netloc else "")
    except ValueError:  # not readable as a URL: whatever follows "scheme://host/"
        after_host = url.split("/", 3)[3:]
        whole = after_host
        pieces = after_host[0].split("/") if after_host else []
    found = {url, *(p for p in whole if len(p.strip("/")) >= 2)}
    found.update(p for p in pieces if _looks_secret(p))
    found |= {unquote(part) for part in found}
    return sorted((p for p in found if p.strip("/")), key=len, reverse=True)


def _described(match: re.Match[str]) -> str:
    found = match.group()
    url = found.rstrip(".,:;!?)]}")  # the sentence's punctuation after a URL stays
    return describe_url(url) + found[len(url) :]


def hide_url(text: str, url: str | None = None) -> str:
    """`text` with every URL in it cut to `describe_url`, and (given the notifier's `url`)
    every secret-looking part of that URL replaced by "…": what an error may keep."""
    text = _URL_IN_TEXT.sub(_described, text)
    if url:
        for part in _secret_parts(url):
            text = text.replace(part, "…")
    return text


class HttpNotifier(Notifier):
    """A notifier that POSTs to one URL through its own aiohttp session."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The session, opened on first use (inside the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": defaults.USER_AGENT},
            )
        return self._session

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, receiver: str
    ) -> DeliveryResult:
        """POST `body`; the status decides the result (see `classify_http_status`).

        `receiver` names the target in error messages (never the full URL: it may hold a
        secret); whatever of the URL the exception or the receiver's answer repeats is
        hidden (`hide_url`).
        """
        try:
            async with self.session().post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                raw = await response.content.read(4 * defaults.HTTP_ERROR_DETAIL_CHARS)
                text = raw.decode("utf-8", "replace")
                # hidden before it is cut: a token cut in half would not be found
                detail = hide_url(" ".join(text.split()), url)
                detail = detail[: defaults.HTTP_ERROR_DETAIL_CHARS] or None
                result = classify_http_status(response.status, response.headers, detail=detail)
        except CONNECTION_ERRORS as exc:
            return connection_failure(receiver, exc, timeout=self.timeout, url=url)
        if result.ok:
            return result
        return DeliveryResult.failure(
            hide_url(f"{receiver} answered {result.error}", url),
            retryable=result.retryable,
            retry_after=result.retry_after,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
