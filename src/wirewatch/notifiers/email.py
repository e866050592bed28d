"""Email digests: the stories and updates gathered since the last digest, in one message.

Unlike the other notifiers an email digest is sent on a cron schedule, for many
alerts at once (see `wirewatch.delivery.digest`). The message is multipart text + HTML,
rendered from Jinja2 templates with autoescaping; headers are built only from
the config and counts, never from article text, so a headline cannot inject one.
"""

from __future__ import annotations

import hashlib
import ssl
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import aiosmtplib
from jinja2 import Environment, PackageLoader, select_autoescape

from wirewatch import defaults
from wirewatch.models import Alert, DeliveryResult, Source
from wirewatch.notifiers.base import secret_value
from wirewatch.notifiers.formatting import excerpt, one_line

_TEMPLATES = Environment(
    loader=PackageLoader("wirewatch.notifiers", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass
class DigestStory:
    """One story as a digest shows it: what is new since the last digest."""

    id: str
    title: str
    url: str | None
    is_new: bool
    first_seen: str
    source_count: int
    places: list[str]
    evidence: str
    sources: list[dict[str, Any]]


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links reach the HTML part: no `javascript:` from a hostile feed."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _source(source: Source) -> dict[str, Any]:
    return {
        "outlet": source.outlet,
        "title": one_line(source.title),
        "url": _safe_url(source.url),
        "published": _stamp(source.published),
    }


def digest_stories(alerts: list[Alert]) -> list[tuple[str, list[DigestStory]]]:
    """Alerts grouped by watch, one entry per story (newest first), sources merged."""
    by_story: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_story[alert.story.id].append(alert)
    groups: dict[str, list[DigestStory]] = defaultdict(list)
    for story_alerts in by_story.values():
        story = story_alerts[-1].story
        sources = {s.article_id: s for a in story_alerts for s in a.articles}
        best = max(sources.values(), key=lambda s: s.score)
        groups[story.watch].append(
            DigestStory(
                id=story.id,
                title=one_line(story.title),
                url=_safe_url(best.url),
                is_new=any(a.kind == "new_story" for a in story_alerts),
                first_seen=_stamp(story.first_seen),
                source_count=len(story.sources),
                places=story.places,
                evidence=excerpt(best.evidence),
                sources=[_source(s) for s in sorted(sources.values(), key=lambda s: s.published)],
            )
        )
    for stories in groups.values():
        stories.sort(key=lambda s: s.first_seen, reverse=True)
    return sorted(groups.items())


def subject_line(prefix: str, stories: list[tuple[str, list[DigestStory]]]) -> str:
    new = sum(s.is_new for _, group in stories for s in group)
    updated = sum(not s.is_new for _, group in stories for s in group)
    if not new and not updated:
        return f"{prefix}: no new stories"
    parts = [f"{new} new {'story' if new == 1 else 'stories'}"] if new else []
    if updated:
        parts.append(f"{updated} {'update' if updated == 1 else 'updates'}")
    return f"{prefix}: {', '.join(parts)}"


class EmailDigestNotifier:
    """Renders and sends one digest message through aiosmtplib."""

    def __init__(self, config: Any, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.name: str = config.name
        self.config = config
        self.tls_context = tls_context  # None: the system's trusted CAs

    def build_message(
        self, alerts: list[Alert], *, since: datetime | None, now: datetime
    ) -> EmailMessage:
        groups = digest_stories(alerts)
        period = f"{_stamp(since)} to {_stamp(now)}" if since else f"until {_stamp(now)}"
        subject = subject_line(self.config.subject, groups)
        context = {"heading": subject, "groups": groups, "digest": self.name, "period": period}
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.config.from_
        message["To"] = ", ".join(self.config.to)
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Message-ID"] = self._message_id(alerts, now)
        message.set_content(_TEMPLATES.get_template("digest.txt.j2").render(context))
        message.add_alternative(
            _TEMPLATES.get_template("digest.html.j2").render(context), subtype="html"
        )
        return message

    def _message_id(self, alerts: list[Alert], now: datetime) -> str:
        """Stable for the same set of alerts, so a resend after a crash can be spotted."""
        basis = "\0".join(sorted(a.delivery_id for a in alerts)) or now.isoformat()
        return make_msgid(
            idstring=hashlib.sha256(basis.encode()).hexdigest()[:24], domain="wirewatch"
        )

    async def send_message(self, message: EmailMessage) -> DeliveryResult:
        config = self.config
        try:
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                use_tls=config.tls,
                start_tls=config.starttls if not config.tls else False,
                username=config.username,
                password=secret_value(config.password),
                tls_context=self.tls_context or ssl.create_default_context(),
                timeout=getattr(config, "timeout", None) or defaults.HTTP_TIMEOUT_S,
            )
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError) as exc:
            return DeliveryResult.failure(
                f"cannot reach {config.host}:{config.port}: {exc}", retryable=True
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: the server asks us to try later; 5xx: it refuses (bad login, bad address).
            retryable = 400 <= exc.code < 500
            return DeliveryResult.failure(f"SMTP {exc.code} {exc.message}", retryable=retryable)
        except aiosmtplib.SMTPException as exc:
            return DeliveryResult.failure(f"SMTP: {exc}", retryable=True)
        except (OSError, TimeoutError) as exc:
            return DeliveryResult.failure(
                f"cannot reach {config.host}:{config.port}: {exc}", retryable=True
            )
        return DeliveryResult.success(remote_ref=message["Message-ID"])
