"""Slack through the Web API (slack-sdk `AsyncWebClient`), and the Block Kit messages
both Slack notifiers send.

A new story is one `chat.postMessage`; each update is a reply in that message's
thread plus a `chat.update` of the parent so that it shows the current source count.
Every piece of article text goes through `escape_mrkdwn`/`slack_link`; every block
stays within Slack's limits (section text, fields, number of blocks).

Retries across time belong to the delivery worker: slack-sdk itself only waits out a
rate limit whose `Retry-After` is short (`SLACK_CLIENT_RETRY_MAX_S`), once; a longer
one comes back at once as a retryable result carrying `retry_after`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from wirewatch import defaults
from wirewatch.models import Alert, DeliveryResult, Source, Story
from wirewatch.notifiers.base import (
    CONNECTION_ERRORS,
    Notifier,
    classify_http_status,
    connection_failure,
    header,
    parse_retry_after,
    secret_value,
)
from wirewatch.notifiers.formatting import (
    escape_mrkdwn,
    excerpt,
    format_time,
    one_line,
    slack_link,
    source_summary,
    truncate,
)

log = logging.getLogger(__name__)

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """What `chat.postMessage` (or an incoming webhook) gets: a fallback text and blocks."""

    text: str
    blocks: list[Block]


def section(text: str) -> Block:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text, defaults.SLACK_SECTION_MAX_CHARS)},
    }


def context(text: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(text, defaults.SLACK_SECTION_MAX_CHARS)}],
    }


def fields(pairs: list[tuple[str, str]]) -> Block:
    """A section of up to 10 `*label*\\nvalue` fields (values already escaped)."""
    return {
        "type": "section",
        "fields": [
            {
                "type": "mrkdwn",
                "text": truncate(f"*{label}*\n{value}", defaults.SLACK_FIELD_MAX_CHARS),
            }
            for label, value in pairs[:10]
        ],
    }


def cap_blocks(blocks: list[Block], limit: int = defaults.SLACK_MAX_BLOCKS) -> list[Block]:
    """At most `limit` blocks; when cut, the last one says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    return [*kept, context(f"…and {len(blocks) - len(kept)} more blocks left out")]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def all_sources(story: Story, extra: list[Source]) -> list[Source]:
    """The story's sources and `extra`, each article once, in published order."""
    by_id = {s.article_id: s for s in [*story.sources, *extra]}
    return sorted(by_id.values(), key=lambda s: s.published)


def headline_source(story: Story, sources: list[Source]) -> Source | None:
    """The article whose title the story carries, else the first one."""
    return next((s for s in sources if s.title == story.title), sources[0] if sources else None)


def outlet_name(source: Source) -> str:
    return escape_mrkdwn(truncate(one_line(source.outlet), defaults.SLACK_OUTLET_MAX_CHARS))


def source_line(source: Source) -> str:
    return (
        f"• *{outlet_name(source)}* — {slack_link(source.url, source.title)}"
        f" · {format_time(source.published)}"
    )


# Room kept in a section for its heading line and the "…and N more" line.
_LIST_RESERVE = 400


def source_list(
    sources: list[Source], max_chars: int = defaults.SLACK_SECTION_MAX_CHARS - _LIST_RESERVE
) -> str:
    """Bulleted sources, at most SLACK_LISTED_SOURCES of them and `max_chars` in all (whole
    lines only), the rest counted."""
    lines: list[str] = []
    used = 0
    for source in sources[: defaults.SLACK_LISTED_SOURCES]:
        line = source_line(source)
        if lines and used + len(line) + 1 > max_chars:
            break
        lines.append(line)
        used += len(line) + 1
    if len(sources) > len(lines):
        lines.append(f"…and {len(sources) - len(lines)} more")
    return "\n".join(lines)


def best(sources: list[Source]) -> Source | None:
    return max(sources, key=lambda s: s.score, default=None)


def quote(text: str) -> str:
    """The evidence as a one-line mrkdwn blockquote (escaped)."""
    return "> " + escape_mrkdwn(excerpt(text))


def names(values: list[str]) -> str:
    return escape_mrkdwn(", ".join(one_line(v) for v in values)) or "—"


def story_message(story: Story, articles: list[Source], *, update: bool = False) -> SlackMessage:
    """The message for a story: headline, outlet and time, watch, places, score, evidence,
    sources. `update=True` marks it as an update (for receivers that cannot thread)."""
    sources = all_sources(story, articles)
    head = headline_source(story, sources)
    score = max([story.best_score, *(s.score for s in sources)])
    prefix = "*Update:* " if update else ""
    blocks: list[Block] = [
        section(prefix + "*" + slack_link(head.url if head else None, story.title) + "*"),
    ]
    if head is not None:
        blocks.append(context(f"*{outlet_name(head)}* · {format_time(head.published)}"))
    blocks.append(
        fields(
            [
                ("Watch", escape_mrkdwn(story.watch)),
                ("Score", f"{score:.2f}"),
                ("Regions", names(story.regions)),
                ("Places", names(story.places)),
            ]
        )
    )
    evidence = best(articles) or best(sources)
    if evidence is not None and evidence.evidence.strip():
        blocks.append(section(quote(evidence.evidence)))
    count = plural(len(sources), "source")
    if len(sources) > 1:
        blocks.append(section(f"*{count}*\n{source_list(sources)}"))
    blocks.append(context(f"{count} · story {escape_mrkdwn(story.id)}"))
    places = f" — {', '.join(story.places)}" if story.places else ""
    label = "Update" if update else "New story"
    text = f"{label} ({story.watch}): {one_line(story.title)}{places} ({count})"
    return SlackMessage(
        text=truncate(escape_mrkdwn(text), defaults.SLACK_FALLBACK_MAX_CHARS),
        blocks=cap_blocks(blocks),
    )


def update_message(
    story: Story, articles: list[Source], *, standalone: bool = False
) -> SlackMessage:
    """A thread reply listing the new sources; `standalone` adds the story's title and link
    and says "Update:" (for messages that cannot sit in the story's thread)."""
    new = plural(len(articles), "new source")
    total = len(all_sources(story, articles))
    if standalone:
        head = headline_source(story, all_sources(story, []) or articles)
        link = slack_link(head.url if head else None, story.title)
        title = f"*Update:* {new} for *{link}*"
    else:
        title = f"*{new}*"
    blocks: list[Block] = [section(f"{title}\n{source_list(articles)}")]
    evidence = best(articles)
    if evidence is not None and evidence.evidence.strip():
        blocks.append(section(quote(evidence.evidence)))
    blocks.append(context(f"{plural(total, 'source')} in all · story {escape_mrkdwn(story.id)}"))
    outlets = source_summary(a.outlet for a in articles)
    text = f"Update: {new} ({outlets}) — {one_line(story.title)}"
    return SlackMessage(
        text=truncate(escape_mrkdwn(text), defaults.SLACK_FALLBACK_MAX_CHARS),
        blocks=cap_blocks(blocks),
    )


# Slack's `ok: false` errors that need an operator, said in words; they are permanent
# (an alert that cannot be posted with this config is dead-lettered with this message).
ERROR_MESSAGES = {
    "invalid_auth": "Slack rejected the token (invalid_auth)",
    "not_authed": "Slack received no token (not_authed)",
    "account_inactive": "the token's Slack account or app is inactive (account_inactive)",
    "token_revoked": "the Slack token was revoked (token_revoked)",
    "channel_not_found": "Slack cannot find channel {channel} (channel_not_found)",
    "not_in_channel": "the Slack app is not in channel {channel}: invite it (not_in_channel)",
    "is_archived": "Slack channel {channel} is archived (is_archived)",
    "missing_scope": "the Slack token lacks the chat:write scope (missing_scope)",
}
# Slack's own trouble, reported with HTTP 200: worth trying again.
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def api_failure(exc: SlackApiError, channel: str) -> DeliveryResult:
    """Map a `SlackApiError` to a result.

    A non-2xx status (429, 5xx, ...) is classified like any HTTP receiver's; an `ok: false`
    answer is permanent unless Slack says the trouble is its own.
    """
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    headers = getattr(response, "headers", None) or {}
    if error == "ratelimited" and 200 <= status < 300:
        status = 429
    if not 200 <= status < 300:
        result = classify_http_status(status, headers, detail=error if error else None)
        return replace(result, error=f"Slack answered {result.error}")
    if error in TRANSIENT_ERRORS:
        return DeliveryResult.failure(f"Slack had trouble ({error})", retryable=True)
    if error in ERROR_MESSAGES:
        return DeliveryResult.failure(
            ERROR_MESSAGES[error].format(channel=channel), retryable=False
        )
    return DeliveryResult.failure(f"Slack refused the message ({error})", retryable=False)


class ShortRateLimitRetryHandler(AsyncRetryHandler):
    """Waits out a 429 inside slack-sdk only when its `Retry-After` is short.

    slack-sdk's own `AsyncRateLimitErrorRetryHandler` sleeps for whatever Retry-After says
    (an hour, if Slack says so) and fails on an HTTP-date; longer waits are the delivery
    worker's to schedule.
    """

    def __init__(self, max_wait_s: float = defaults.SLACK_CLIENT_RETRY_MAX_S) -> None:
        super().__init__(max_retry_count=1)
        self.max_wait_s = max_wait_s

    @staticmethod
    def wait_s(response: HttpResponse | None) -> float | None:
        if response is None or response.status_code != 429:
            return None
        return parse_retry_after(header(response.headers, "Retry-After"))

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        wait = self.wait_s(response)
        return wait is not None and wait <= self.max_wait_s

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await asyncio.sleep(self.wait_s(response) or 0.0)
        state.increment_current_attempt()


class SlackNotifier(Notifier):
    """Posts each new story to a channel; updates go into the story's thread."""

    def __init__(self, config: Any) -> None:
        self.name = config.name
        self.channel: str = config.channel
        base_url = str(getattr(config, "base_url", None) or defaults.SLACK_BASE_URL)
        self.client = AsyncWebClient(
            token=secret_value(config.token),
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=int(defaults.HTTP_TIMEOUT_S),
            retry_handlers=[ShortRateLimitRetryHandler(), AsyncConnectionErrorRetryHandler()],
        )

    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult:
        try:
            if alert.kind == "story_update" and thread_ref:
                return await self._reply(alert, thread_ref)
            if alert.kind == "story_update":  # its parent never reached Slack
                message = story_message(alert.story, alert.articles, update=True)
            else:
                message = story_message(alert.story, alert.articles)
            response = await self._post(message)
            return DeliveryResult.success(remote_ref=response["ts"])
        except SlackApiError as exc:
            return api_failure(exc, self.channel)
        except CONNECTION_ERRORS as exc:
            return connection_failure("Slack", exc)
        except SlackClientError as exc:
            return DeliveryResult.failure(f"Slack client error: {exc}", retryable=False)

    async def _post(self, message: SlackMessage, thread_ts: str | None = None) -> Any:
        return await self.client.chat_postMessage(
            channel=self.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )

    async def _reply(self, alert: Alert, thread_ts: str) -> DeliveryResult:
        """The new sources in the thread, then the parent's source count brought up to date."""
        reply = await self._post(update_message(alert.story, alert.articles), thread_ts)
        parent = story_message(alert.story, alert.articles)
        try:  # chat.update needs the channel id, which postMessage returned
            await self.client.chat_update(
                channel=reply["channel"], ts=thread_ts, text=parent.text, blocks=parent.blocks
            )
        except (SlackClientError, *CONNECTION_ERRORS) as exc:
            log.warning(
                "notifier %s: could not update the parent message of story %s: %s",
                self.name,
                alert.story.id,
                exc,
            )
        return DeliveryResult.success(remote_ref=reply["ts"])
