"""Slack through the Web API (slack-sdk `AsyncWebClient`), and the Block Kit messages
both Slack notifiers send.

A new story is one `chat.postMessage`; each update is a reply in that message's
thread plus a `chat.update` of the parent so that it shows the current source count.
Every piece of article text goes through `escape_mrkdwn`/`slack_link`; every text object
is `verbatim` (no automatic links or mentions); every block stays within Slack's limits
(section text, fields, number of blocks).

Retries across time belong to the delivery worker: slack-sdk itself only waits out a
rate limit whose `Retry-After` is short (`SLACK_CLIENT_RETRY_MAX_S`), once; a longer
one comes back at once as a retryable result carrying `retry_after`. Messages to one
channel are spaced at least `SLACK_CHANNEL_INTERVAL_S` apart (Slack allows about one
per second per channel), so a queue flushed after an outage does not run into 429s.

A bad token, an unknown channel or a missing scope is reported in words (log,
`/healthz`) and retried like an outage: the alerts wait in the outbox until an
operator fixes the config (and reloads), then go out in order. They are never
dead-lettered for it before the notifier's `dead_after`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
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
from wirewatch.util import parse_retry_after, plural

log = logging.getLogger(__name__)

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """What `chat.postMessage` (or an incoming webhook) gets: a fallback text and blocks."""

    text: str
    blocks: list[Block]


def mrkdwn(text: str, limit: int = defaults.SLACK_SECTION_MAX_CHARS) -> dict[str, Any]:
    """A mrkdwn text object, `verbatim`: Slack turns no bare URL, #channel or @name in it
    into a link or mention; only the markup written here (`<url|label>`, `*bold*`) counts."""
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def fields(pairs: list[tuple[str, str]]) -> Block:
    """A section of up to 10 `*label*\\nvalue` fields (values already escaped)."""
    return {
        "type": "section",
        "fields": [
            mrkdwn(f"*{label}*\n{value}", defaults.SLACK_FIELD_MAX_CHARS)
            for label, value in pairs[:10]
        ],
    }


def cap_blocks(blocks: list[Block], limit: int = defaults.SLACK_MAX_BLOCKS) -> list[Block]:
    """At most `limit` blocks; when cut, the last one says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    return [*kept, context(f"…and {len(blocks) - len(kept)} more blocks left out")]


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


FEEDBACK_BLOCK = "wirewatch-feedback"  # the buttons' block; its clicks: feedback/slack.py
JUDGED_BLOCK = "wirewatch-judged"  # the line saying who judged it, added by feedback/slack.py
FEEDBACK_BUTTONS = (
    ("wirewatch-relevant", "Relevant", "primary"),
    ("wirewatch-not-relevant", "Not relevant", "danger"),
    ("wirewatch-mute", "Mute this story for a while", None),
)


def feedback_buttons(story: Story, head: Source | None) -> Block:
    """Relevant / Not relevant (a judgement of the story's headline article for its watch) and
    Mute (a silence for the story); each button's value says what it is about."""
    value = json.dumps(
        {"story": story.id, "watch": story.watch, "article": head.article_id if head else None}
    )
    elements = []
    for action_id, label, style in FEEDBACK_BUTTONS:
        button: Block = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": label},
            "value": value,
        }
        if style:
            button["style"] = style
        elements.append(button)
    return {"type": "actions", "block_id": FEEDBACK_BLOCK, "elements": elements}


def story_message(
    story: Story,
    articles: list[Source],
    *,
    update: bool = False,
    buttons: bool = False,
    judged: Block | None = None,
) -> SlackMessage:
    """The message for a story: headline, outlet and time, watch, places, score, evidence,
    sources. `update=True` marks it as an update (for receivers that cannot thread);
    `buttons=True` adds the feedback buttons (when the notifier receives their clicks), and
    `judged` the line of the last click, kept when the message is rendered again."""
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
    if buttons:
        tail = [feedback_buttons(story, head), *([judged] if judged else [])]
        blocks = [*cap_blocks(blocks, defaults.SLACK_MAX_BLOCKS - len(tail)), *tail]
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


# Slack's `ok: false` errors that need an operator, said in words. They are retried like
# an outage (the config is wrong, not the alert): the alerts wait in the outbox until the
# token or channel is fixed, instead of being dead-lettered one after the other.
ERROR_MESSAGES = {
    "invalid_auth": "Slack rejected the token (invalid_auth)",
    "not_authed": "Slack received no token (not_authed)",
    "account_inactive": "the token's Slack account or app is inactive (account_inactive)",
    "token_revoked": "the Slack token was revoked (token_revoked)",
    "token_expired": "the Slack token has expired (token_expired)",
    "channel_not_found": "Slack cannot find channel {channel} (channel_not_found)",
    "not_in_channel": "the Slack app is not in channel {channel}: invite it (not_in_channel)",
    "is_archived": "Slack channel {channel} is archived (is_archived)",
    "missing_scope": "the Slack token lacks the chat:write scope (missing_scope)",
    "restricted_action": "a Slack admin blocks posting to channel {channel} (restricted_action)",
}
OPERATOR_HINT = "fix the config; alerts wait in the outbox"
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
        message = ERROR_MESSAGES[error].format(channel=channel)
        return DeliveryResult.failure(f"{message}: {OPERATOR_HINT}", retryable=True)
    return DeliveryResult.failure(f"Slack refused the message ({error})", retryable=False)


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's rate-limit handler, waiting out a 429 only when its `Retry-After` is short.

    The stock handler sleeps for whatever Retry-After says (an hour, if Slack says so)
    and fails on an HTTP-date; longer waits are the delivery worker's to schedule.
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
        if not await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        ):
            return False
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


class ChannelPacer:
    """Spaces messages to one channel at least `interval_s` apart (clock and sleep injectable)."""

    def __init__(
        self,
        interval_s: float | None = None,  # None: defaults.SLACK_CHANNEL_INTERVAL_S
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval_s = defaults.SLACK_CHANNEL_INTERVAL_S if interval_s is None else interval_s
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next message may go; call it right before posting."""
        async with self._lock:
            if self._last is not None:
                pause = self._last + self.interval_s - self.clock()
                if pause > 0:
                    await self.sleep(pause)
            self._last = self.clock()


METADATA_EVENT = "wirewatch_alert"  # message metadata: which delivery posted a message
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{8,}")


def alert_metadata(alert: Alert) -> dict[str, Any]:
    payload = {"delivery_id": alert.delivery_id, "story": alert.story.id}
    return {"event_type": METADATA_EVENT, "event_payload": payload}


class SlackNotifier(Notifier):
    """Posts each new story to a channel; updates go into the story's thread.

    Every message carries its alert's `delivery_id` as message metadata, so that an attempt
    cut short (the process killed between Slack's answer and the outbox commit) can be
    looked up (`find_delivered`) instead of posted twice. The lookup needs the
    `channels:history` scope (`groups:history` for a private channel) and, for a channel
    given by name, `channels:read`; without them the alert is posted again.
    """

    def __init__(self, config: Any, *, pacer: ChannelPacer | None = None) -> None:
        self.name = config.name
        self.channel: str = config.channel
        self.pacer = pacer or ChannelPacer()
        self._channel_id: str | None = None  # learnt from postMessage, for conversations.*
        self.buttons = bool(
            getattr(config, "app_token", None) or getattr(config, "signing_secret", None)
        )
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
                message = story_message(
                    alert.story, alert.articles, update=True, buttons=self.buttons
                )
            else:
                message = story_message(alert.story, alert.articles, buttons=self.buttons)
            response = await self._post(message, alert=alert)
            return DeliveryResult.success(remote_ref=response["ts"])
        except SlackApiError as exc:
            return api_failure(exc, self.channel)
        except CONNECTION_ERRORS as exc:
            return connection_failure("Slack", exc)
        except SlackClientError as exc:
            return DeliveryResult.failure(f"Slack client error: {exc}", retryable=False)

    async def _post(
        self, message: SlackMessage, thread_ts: str | None = None, *, alert: Alert
    ) -> Any:
        await self.pacer.wait()
        response = await self.client.chat_postMessage(
            channel=self.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            metadata=alert_metadata(alert),
        )
        self._channel_id = response.get("channel") or self._channel_id
        return response

    async def _reply(self, alert: Alert, thread_ts: str) -> DeliveryResult:
        """The new sources in the thread, then the parent's source count brought up to date."""
        reply = await self._post(
            update_message(alert.story, alert.articles), thread_ts, alert=alert
        )
        judged = await self._judged_line(reply["channel"], thread_ts) if self.buttons else None
        parent = story_message(alert.story, alert.articles, buttons=self.buttons, judged=judged)
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

    async def _judged_line(self, channel: str, ts: str) -> Block | None:
        """The parent's "Judged … by …" line (feedback/slack.py), to keep it when the parent is
        rendered again; None when it has none or Slack cannot be asked (`channels:history`)."""
        try:
            response = await self.client.conversations_replies(
                channel=channel, ts=ts, limit=1, inclusive=True
            )
        except (SlackClientError, *CONNECTION_ERRORS) as exc:
            log.info("notifier %s: could not read the parent's judged line: %s", self.name, exc)
            return None
        parent = next((m for m in response.get("messages") or [] if m.get("ts") == ts), {})
        blocks = parent.get("blocks") if isinstance(parent.get("blocks"), list) else []
        return next(
            (b for b in blocks if isinstance(b, dict) and b.get("block_id") == JUDGED_BLOCK), None
        )

    async def find_delivered(
        self, alert: Alert, thread_ref: str | None, since: datetime
    ) -> str | None:
        """The `ts` of the message an interrupted attempt posted for `alert`, or None (not
        found, or Slack cannot be asked: then it is posted again)."""
        oldest = f"{since.timestamp() - defaults.SLACK_LOOKUP_MARGIN_S:.6f}"
        try:
            channel = await self._lookup_channel_id()
            if channel is None:
                return None
            if alert.kind == "story_update" and thread_ref:
                response = await self.client.conversations_replies(
                    channel=channel, ts=thread_ref, oldest=oldest, include_all_metadata=True,
                    limit=200,
                )  # fmt: skip
            else:
                response = await self.client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200
                )
        except (SlackClientError, *CONNECTION_ERRORS) as exc:
            log.warning(
                "notifier %s: cannot ask Slack whether alert %s arrived (%s); posting it again",
                self.name,
                alert.delivery_id,
                exc,
            )
            return None
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("delivery_id") == alert.delivery_id:
                return message.get("ts")
        return None

    async def _lookup_channel_id(self) -> str | None:
        """The channel's id (conversations.* want it): learnt, given, or found by name."""
        bare = self.channel.lstrip("#")
        if self._channel_id or _CHANNEL_ID.fullmatch(bare):
            return self._channel_id or bare
        cursor = None
        while True:
            response = await self.client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=1000,
                cursor=cursor,
            )  # fmt: skip
            for channel in response.get("channels") or []:
                if channel.get("name") == bare:
                    self._channel_id = channel["id"]
                    return self._channel_id
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
