"""The notifier interface and the HTTP status rules every receiver shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

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
    receiver: str, exc: BaseException, *, timeout: float | None = None
) -> DeliveryResult:
    """A retryable failure for a connection error or timeout."""
    if isinstance(exc, TimeoutError):
        reason = f"timed out after {timeout:g} s" if timeout else "timed out"
    else:
        reason = str(exc) or type(exc).__name__
    return DeliveryResult.failure(f"could not reach {receiver}: {reason}", retryable=True)


def describe_url(url: str) -> str:
    """Scheme, host and path of `url`: what an error message may show (no query, no userinfo)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the receiver"
    return f"{parts.scheme}://{host}{port}{parts.path}" if host else "the receiver"


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
        secret).
        """
        try:
            async with self.session().post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                raw = await response.content.read(4 * defaults.HTTP_ERROR_DETAIL_CHARS)
                text = raw.decode("utf-8", "replace")
                detail = " ".join(text.split())[: defaults.HTTP_ERROR_DETAIL_CHARS] or None
                result = classify_http_status(response.status, response.headers, detail=detail)
        except CONNECTION_ERRORS as exc:
            return connection_failure(receiver, exc, timeout=self.timeout)
        if result.ok:
            return result
        return DeliveryResult.failure(
            f"{receiver} answered {result.error}",
            retryable=result.retryable,
            retry_after=result.retry_after,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
