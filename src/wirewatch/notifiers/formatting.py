"""Text helpers shared by the notifiers: Slack mrkdwn escaping, links, limits, excerpts, times.

Everything that comes from an article (titles, outlet names, evidence) is hostile:
it is escaped so that `<!channel>`, `@here` or `<https://evil|click>` show as text
and ping no one, and `*`, `_`, `~` and backticks format nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from wirewatch import defaults
from wirewatch.util import terminal_safe

ZWSP = "\u200b"
ELLIPSIS = "…"
FULLWIDTH_PIPE = "\uff5c"  # "｜": shown like "|", inert inside a Slack link
_BROADCAST = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


# mrkdwn has no escape for its emphasis marks (*bold*, _italic_, ~strike~, `code`): in text
# from an outlet they are swapped for characters that look alike and mark up nothing.
MARKUP_LOOKALIKES = str.maketrans(
    {
        "*": "\u2217",  # ∗ asterisk operator
        "_": "\u02cd",  # ˍ modifier letter low macron
        "~": "\u223c",  # ∼ tilde operator
        "`": "\u02cb",  # ˋ modifier letter grave accent
    }
)


def escape_mrkdwn(text: str) -> str:
    """Escape `&`, `<`, `>` as entities, break bare @here/@channel/@everyone, and swap the
    emphasis marks (`*`, `_`, `~`, backtick) for look-alikes: an outlet's text
    shows as written and cannot bold, strike or code-format the rest of a message."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + ZWSP, text.translate(MARKUP_LOOKALIKES))


def one_line(text: str) -> str:
    """One line of plain text: whitespace (newlines included) collapsed to single spaces,
    control characters and direction overrides (which can make a headline read backwards)
    dropped. Every notifier passes article text through here."""
    return terminal_safe(_SPACES.sub(" ", text)).strip()


def slack_link(
    url: str | None,
    label: str,
    *,
    max_label: int = defaults.SLACK_TITLE_MAX_CHARS,
    max_chars: int = defaults.SLACK_LINK_MAX_CHARS,
) -> str:
    """`<url|label>` for http(s) URLs; other schemes (or none) give the escaped label only.

    The label is cut to `max_label` characters first, so that a link is never cut in half;
    a link longer than `max_chars` in all is shown as its label only.
    """
    label = escape_mrkdwn(short_title(label, max_label)) or "(untitled)"
    if not url:
        return label
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return label
    if scheme not in ("http", "https"):
        return label
    # Keep the URL's own escapes and reserved characters; encode what would end the link.
    safe_url = quote(url.strip(), safe="!#$%&'()*+,-./:;=?@[]_~")
    # Slack splits `<url|label>` at the first pipe; one in the label would end it early.
    link = f"<{safe_url.replace('&', '&amp;')}|{label.replace('|', FULLWIDTH_PIPE)}>"
    return link if len(link) <= max_chars else label


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut; never inside an entity or link."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp < len("&amp;"):
        cut = cut[:amp]  # a half entity such as "&am"
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]  # a half link
    return cut.rstrip() + ELLIPSIS


def cut_words(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary where there is one, ending in "…"."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[: max(limit, 0)]
    head = text[: limit - len(ELLIPSIS)]
    if not text[len(head)].isspace() and " " in head.strip():
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + ELLIPSIS


def short_title(title: str, limit: int = defaults.SLACK_TITLE_MAX_CHARS) -> str:
    """A title on one line, at most `limit` characters, cut between words."""
    return cut_words(one_line(title), limit)


def excerpt(
    text: str,
    *,
    max_chars: int = defaults.EXCERPT_MAX_CHARS,
    max_sentences: int = defaults.EXCERPT_MAX_SENTENCES,
) -> str:
    """The first sentences of `text` (at most `max_sentences`) on one line, within `max_chars`.

    Whole sentences are kept while they fit; a first sentence that alone is too long is cut
    between words and ends in "…".
    """
    sentences = [s for s in _SENTENCE_END.split(one_line(text)) if s]
    if not sentences or max_chars <= 0:
        return ""
    kept = sentences[0]
    for sentence in sentences[1 : max(max_sentences, 1)]:
        if len(kept) + 1 + len(sentence) > max_chars:
            break
        kept += " " + sentence
    return cut_words(kept, max_chars)


def source_summary(outlets: Iterable[str], *, names: int = defaults.SOURCE_SUMMARY_NAMES) -> str:
    """Outlets named once each, the rest counted: `dawn, geo +3 more`."""
    unique = list(dict.fromkeys(one_line(o) for o in outlets))
    shown = ", ".join(unique[: max(names, 0)])
    rest = len(unique) - min(len(unique), max(names, 0))
    if not rest:
        return shown
    return f"{shown} +{rest} more" if shown else f"{rest} outlets"


def utc(dt: datetime) -> datetime:
    """`dt` in UTC; a naive time is taken to be UTC already."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def format_time(dt: datetime) -> str:
    """A short, unambiguous time for people: `24 Nov 2026 07:05 UTC`."""
    return utc(dt).strftime("%d %b %Y %H:%M UTC")


def iso_utc(dt: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the second: `2026-11-24T07:05:00Z`."""
    return utc(dt).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
