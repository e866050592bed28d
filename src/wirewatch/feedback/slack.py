"""Slack's feedback buttons (notifiers/slack.py adds them to every story message): a click
arrives over Socket Mode (slack-sdk's client, outbound only: no public URL needed) or as an
HTTP request to `server.listen`'s ``/slack/actions`` (the request-URL mode, its signature
checked with the signing secret). Either way it is acknowledged at once (Slack wants that
within 3 s), then judged through `service.feedback` (or muted: a silence for the story), and
the message is updated (chat.update) to say who did what.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.errors import SlackClientError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from wirewatch import defaults
from wirewatch.feedback.api import Feedback, FeedbackError
from wirewatch.notifiers.base import CONNECTION_ERRORS, secret_value
from wirewatch.notifiers.slack import JUDGED_BLOCK

log = logging.getLogger(__name__)

VERDICTS = {"wirewatch-relevant": True, "wirewatch-not-relevant": False}
MUTE = "wirewatch-mute"
ACTIONS_PATH = "/slack/actions"


def who_clicked(payload: dict[str, Any]) -> str:
    user = payload.get("user")
    if not isinstance(user, dict):
        return "someone"
    return str(user.get("username") or user.get("name") or user.get("id") or "someone")


class SlackFeedback:
    """Turns one block_actions payload into a judgement (or a mute) and updates the message."""

    def __init__(self, feedback: Feedback, client: AsyncWebClient) -> None:
        self.feedback = feedback
        self.client = client
        self._tasks: set[asyncio.Task] = set()

    def handle_later(self, payload: dict[str, Any]) -> None:
        """Handle after the acknowledgement (a judgement may encode an article)."""
        task = asyncio.create_task(self.handle(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, payload: dict[str, Any]) -> list[str]:
        """What was done, as the message shows it; nothing for other payloads."""
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            return []
        actions = payload.get("actions")
        done = []
        for action in actions if isinstance(actions, list) else []:
            try:
                said = await self._act(action, who_clicked(payload))
            except (FeedbackError, ValueError, KeyError, TypeError, AttributeError) as exc:
                log.warning("slack feedback refused: %s", exc, extra={"event": "feedback.refused"})
                said = f"Not recorded: {exc}"
            if said:
                done.append(said)
        if done:
            await self._update(payload, done[-1])
        return done

    async def _act(self, action: dict[str, Any], who: str) -> str | None:
        action_id = action.get("action_id")
        if action_id not in (*VERDICTS, MUTE):
            return None
        value = json.loads(action.get("value") or "{}")
        if not isinstance(value, dict):
            raise ValueError("the button's value is not an object")
        if action_id == MUTE:
            await self.feedback.mute(str(value["story"]), who)
            hours = defaults.FEEDBACK_MUTE_S / 3600
            return f"Story {value['story']} muted for {hours:g} h by {who}"
        relevant = VERDICTS[action_id]
        judgement = await self.feedback.judge(
            str(value["article"]), str(value["watch"]), relevant, who, source="slack"
        )
        verdict = "relevant" if relevant else "not relevant"
        return (
            f"Judged {verdict} by {who} (#{judgement.id}: `wirewatch feedback undo {judgement.id}`)"
        )

    async def _update(self, payload: dict[str, Any], said: str) -> None:
        message, channel = payload.get("message"), payload.get("channel")
        if not isinstance(message, dict) or not isinstance(channel, dict):
            return
        if not isinstance(channel.get("id"), str) or not isinstance(message.get("ts"), str):
            return
        blocks = message.get("blocks") if isinstance(message.get("blocks"), list) else []
        blocks = [b for b in blocks if isinstance(b, dict) and b.get("block_id") != JUDGED_BLOCK]
        note = {"type": "context", "block_id": JUDGED_BLOCK,
                "elements": [{"type": "mrkdwn", "text": said[:2000]}]}  # fmt: skip
        try:
            await self.client.chat_update(
                channel=channel["id"], ts=message["ts"], text=message.get("text") or said,
                blocks=[*blocks, note],
            )  # fmt: skip
        except (SlackClientError, *CONNECTION_ERRORS) as exc:
            log.warning("slack feedback: could not update the message: %s", exc)


class SocketModeListener:
    """One Socket Mode connection (per app-level token); reconnects by itself."""

    def __init__(self, app_token: str, web_client: AsyncWebClient, feedback: SlackFeedback):
        self.feedback = feedback
        self.client = SocketModeClient(
            app_token=app_token, web_client=web_client, auto_reconnect_enabled=True
        )
        self.client.socket_mode_request_listeners.append(self._on_request)  # type: ignore[arg-type]

    async def start(self) -> None:
        await self.client.connect()

    async def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        if request.type == "interactive":
            self.feedback.handle_later(request.payload)

    async def close(self) -> None:
        await self.client.close()


Verifiers = list[tuple[SignatureVerifier, SlackFeedback]]


def actions_route(verifiers_of: Callable[[], Verifiers]):
    """POST /slack/actions: Slack's request-URL mode; 401 unless signed by a known secret
    (``verifiers_of()``: those of the running service, none until it has started)."""

    async def actions(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        verifiers = verifiers_of()
        handler = next((h for v, h in verifiers if v.is_valid(body, timestamp, signature)), None)
        if handler is None:
            return web.Response(status=401, text="invalid signature")
        try:
            payload = json.loads(parse_qs(body.decode())["payload"][0])
        except (KeyError, IndexError, ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="expected a form field 'payload' with JSON")
        handler.handle_later(payload)
        return web.Response(status=200)

    return actions


async def start_slack_feedback(
    configs: Iterable[Any], notifiers: dict[str, Any], feedback: Feedback
) -> tuple[list[SocketModeListener], Verifiers]:
    """Socket Mode listeners and request verifiers for the Slack notifiers that ask for them."""
    listeners: list[SocketModeListener] = []
    verifiers: Verifiers = []
    for config in configs:
        notifier = notifiers.get(config.name)
        if getattr(config, "type", None) != "slack" or notifier is None:
            continue
        handler = SlackFeedback(feedback, notifier.client)
        if config.app_token is not None:
            token = secret_value(config.app_token) or ""
            listener = SocketModeListener(token, notifier.client, handler)
            try:
                await listener.start()
            except (SlackClientError, *CONNECTION_ERRORS) as exc:  # reconnects later by itself
                log.error("notifier %s: Socket Mode did not connect: %s", config.name, exc)
            listeners.append(listener)
        if config.signing_secret is not None:
            secret = secret_value(config.signing_secret) or ""
            verifiers.append((SignatureVerifier(secret), handler))
    return listeners, verifiers
