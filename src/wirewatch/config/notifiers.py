"""The `notifiers:` section: one model per notifier type, and the one list of those types.

`NotifierModel` names every notifier type once; the discriminated union `NotifierConfig`
(on `type`), `NOTIFIER_MODELS` (type → model) and `NOTIFIER_TYPES` (their order in
messages) all follow from it. A new notifier type is a model here, added to that union.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from wirewatch import defaults
from wirewatch.config.types import (
    Address,
    Cron,
    Duration,
    HttpUrl,
    Name,
    NonEmpty,
    Section,
    TimeZone,
    at_least,
)

__all__ = [
    "NOTIFIER_MODELS",
    "NOTIFIER_TYPES",
    "DeadAfter",
    "EmailConfig",
    "NotifierConfig",
    "NotifierModel",
    "SlackConfig",
    "SlackWebhookConfig",
    "TerminalConfig",
    "WebhookConfig",
]

# How long a notifier's deliveries may keep failing before they are dead-lettered.
DeadAfter = Annotated[Duration, at_least(60)]


def _receiver_url(value: SecretStr) -> SecretStr:
    """An absolute http(s) URL with a host (and a valid port): what the HTTP client can read.
    A receiver's URL is a secret (Slack, Discord, Teams and Zapier keep the token in its
    path), so the message never shows it."""
    url = value.get_secret_value()
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not a number
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0
    except ValueError:  # a bad IPv6 host or port
        ok = False
    if not ok or any(c.isspace() for c in url):
        raise ValueError("must be an http:// or https:// URL (the value is not shown)")
    return value


def _signing_secret(value: SecretStr) -> SecretStr:
    """An HMAC key long enough not to be guessed (an empty one would sign nothing)."""
    size = len(value.get_secret_value().encode(errors="surrogatepass"))
    if size < defaults.WEBHOOK_SECRET_MIN_BYTES:
        raise ValueError(
            f"must be at least {defaults.WEBHOOK_SECRET_MIN_BYTES} bytes of random text (the "
            "value is not shown), e.g. from `openssl rand -hex 32`"
        )
    return value


# A notifier's URL, kept as a secret: hidden in reprs and errors, redacted from logs.
ReceiverUrl = Annotated[SecretStr, AfterValidator(_receiver_url)]
SigningSecret = Annotated[SecretStr, AfterValidator(_signing_secret)]


def _app_token(value: SecretStr) -> SecretStr:
    """Socket Mode needs an app-level token (xapp-…), not the bot token (xoxb-…)."""
    if not value.get_secret_value().startswith("xapp-"):
        raise ValueError("must be an app-level token (xapp-…; the value is not shown)")
    return value


AppToken = Annotated[SecretStr, AfterValidator(_app_token)]


class SlackConfig(Section):
    name: Name
    type: Literal["slack"] = "slack"
    token: SecretStr
    channel: NonEmpty
    base_url: HttpUrl | None = None
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S
    # feedback buttons (docs/feedback.md): clicks arrive over Socket Mode (app_token) or as
    # HTTP requests to server.listen's /slack/actions, signed with signing_secret
    app_token: AppToken | None = None
    signing_secret: SigningSecret | None = None


class SlackWebhookConfig(Section):
    name: Name
    type: Literal["slack_webhook"] = "slack_webhook"
    url: ReceiverUrl
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S


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
    schedule: Cron
    timezone: TimeZone = defaults.EMAIL_TIMEZONE
    subject: str = defaults.DIGEST_SUBJECT
    send_empty: bool = defaults.DIGEST_SEND_EMPTY
    timeout: Annotated[Duration, at_least(0, strict=True)] | None = None
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S

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


class WebhookConfig(Section):
    name: Name
    type: Literal["webhook"] = "webhook"
    url: ReceiverUrl
    secret: SigningSecret | None = None
    timeout: Annotated[Duration, at_least(0, strict=True)] | None = None
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S


class TerminalConfig(Section):
    name: Name
    type: Literal["terminal"] = "terminal"
    dead_after: DeadAfter = defaults.DELIVERY_DEAD_AFTER_S


# ---- the one list of notifier types ----------------------------------------------------------
NotifierModel = SlackConfig | SlackWebhookConfig | EmailConfig | WebhookConfig | TerminalConfig
NotifierConfig = Annotated[NotifierModel, Field(discriminator="type")]
NOTIFIER_MODELS: dict[str, type[Section]] = {
    model.model_fields["type"].default: model for model in get_args(NotifierModel)
}
NOTIFIER_TYPES: tuple[str, ...] = tuple(NOTIFIER_MODELS)
