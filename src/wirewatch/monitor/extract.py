"""Article pages to plain text with trafilatura, minus the boxes it tends to keep.

trafilatura drops navigation, footers and (with `include_comments=False`)
comments, but keeps a donation or newsletter box that sits inside `<article>`.
Elements whose class or id mark them as such are pruned before extraction.
CPU work: callers on the event loop run `extract_article` in a thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import html as lxml_html
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from wirewatch import defaults

BOILERPLATE_TOKENS = frozenset(
    {
        "donate",
        "donation",
        "donations",
        "newsletter",
        "newsletters",
        "subscribe",
        "subscription",
        "signup",
        "related",
        "share",
        "sharing",
        "sharebar",
        "promo",
        "promotion",
        "advert",
        "advertisement",
        "sponsored",
        "cookie",
        "cookies",
        "consent",
    }
)
NEVER_PRUNED = frozenset({"html", "body", "main", "article"})
_VISIBLE_TEXT = (
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template)]"
)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str  # paragraphs separated by "\n"
    published: datetime | None  # timezone-aware UTC
    language: str | None  # ISO 639 code from the page, e.g. "en"


def extract_article(html: bytes | str, url: str | None) -> Extracted | None:
    """The main text of an article page, or None when there is none.

    Under `EXTRACT_MIN_CHARS` of text is none: what is left of a consent wall, an
    error page or a bare menu is not the article.
    """
    if not html or not html.strip():
        return None
    tree = load_html(html)
    if tree is None:
        return None
    language = _page_language(tree)
    prune_boilerplate(tree)
    document = bare_extraction(tree, url=url, include_comments=False, with_metadata=True)
    if document is None:
        return None
    title = " ".join((getattr(document, "title", None) or "").split())
    text = _paragraphs(getattr(document, "text", None) or "", title)
    if len(text) < defaults.EXTRACT_MIN_CHARS:
        return None
    return Extracted(
        title=title,
        text=text,
        published=_date(getattr(document, "date", None)),
        language=_language(getattr(document, "language", None)) or language,
    )


def prune_boilerplate(tree: lxml_html.HtmlElement) -> int:
    """Remove donation/newsletter/share/related/promo boxes in place; returns how many."""
    total = len(_text_of(tree)) or 1
    doomed = [
        element
        for element in tree.iter()
        if isinstance(element.tag, str)
        and element.tag not in NEVER_PRUNED
        and _is_boilerplate(element)
    ]
    removed = 0
    for element in doomed:
        if element.getparent() is None or _has_ancestor_in(element, doomed):
            continue
        if len(_text_of(element)) / total > defaults.EXTRACT_MAX_PRUNED_SHARE:
            continue
        if element.find(".//article") is not None or element.find(".//main") is not None:
            continue
        element.drop_tree()
        removed += 1
    return removed


def _is_boilerplate(element: lxml_html.HtmlElement) -> bool:
    names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return not BOILERPLATE_TOKENS.isdisjoint(_TOKEN_SPLIT.split(names))


def _has_ancestor_in(element: lxml_html.HtmlElement, doomed: list) -> bool:
    ancestors = set(element.iterancestors())
    return any(other in ancestors for other in doomed if other is not element)


def _text_of(element: lxml_html.HtmlElement) -> str:
    """The text a reader sees: scripts (JSON blobs, analytics) would skew the shares."""
    return "".join(element.xpath(_VISIBLE_TEXT))


def _paragraphs(text: str, title: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and title and lines[0] == title:
        lines = lines[1:]  # trafilatura repeats the headline as the first line
    return "\n".join(lines)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _page_language(tree: lxml_html.HtmlElement) -> str | None:
    root = tree.getroottree().getroot()
    candidates = [root.get("lang"), root.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += root.xpath("//meta[@http-equiv='content-language']/@content")
    candidates += root.xpath("//meta[@property='og:locale']/@content")
    for candidate in candidates:
        if language := _language(candidate):
            return language
    return None


def _language(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    primary = re.split(r"[-_,;\s]", value.strip().lower(), maxsplit=1)[0]
    return primary if _LANGUAGE.match(primary) else None
