"""Article pages to plain text with trafilatura, minus the boxes it tends to keep.

trafilatura drops navigation, footers and (with `include_comments=False`)
comments, but keeps a donation or newsletter box that sits inside `<article>`.
Elements whose class or id mark them as such are pruned before extraction.

Every step is linear in the page, and what trafilatura is given is bounded: a page of
more than `EXTRACT_MAX_ELEMENTS` elements or `EXTRACT_MAX_TEXT_CHARS` characters of text
is cut there (in document order: the headline and the lead come first) before pruning
and extraction, and `Extracted.cut` says so. trafilatura's own cost grows faster than
the page (a megabyte of tiny paragraphs takes it tens of seconds), so the budget, not
the 10 MB page limit, is what bounds one extraction (about two seconds at most).
CPU work: callers on the event loop run `extract_article` in a thread (the poller: in
the monitor's own small pool, `monitor/limits.py`).
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
_UNCOUNTED_TEXT = frozenset({"script", "style"})
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str  # paragraphs separated by "\n"
    published: datetime | None  # timezone-aware UTC
    language: str | None  # ISO 639 code from the page, e.g. "en"
    cut: str | None = None  # what the page budget left out, e.g. "page cut at 20,000 elements"


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
    cut = cut_to_budget(tree)
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
        cut=cut,
    )


def cut_to_budget(
    tree: lxml_html.HtmlElement,
    max_elements: int | None = None,
    max_text_chars: int | None = None,
) -> str | None:
    """Cut the page where its elements or its text pass the budget; what was done, or None.

    Everything from the first element past the budget on, in document order, goes (that
    element, its following siblings, and theirs up to the root): what is left is the
    top of the page, whole. Script and style text is not counted (trafilatura drops it
    first). Visits at most the budget's worth of elements.
    """
    max_elements = max_elements or defaults.EXTRACT_MAX_ELEMENTS
    max_text_chars = max_text_chars or defaults.EXTRACT_MAX_TEXT_CHARS
    chars = 0
    for elements, element in enumerate(tree.iter(), start=1):
        if isinstance(element.tag, str) and element.tag not in _UNCOUNTED_TEXT:
            chars += len(element.text or "")
        chars += len(element.tail or "")
        if elements > max_elements:
            reason = f"page cut at {max_elements:,} elements"
            break
        if chars > max_text_chars:
            reason = f"page cut at {max_text_chars:,} characters of text"
            break
    else:
        return None
    _drop_from(element)
    return reason


def _drop_from(element: lxml_html.HtmlElement) -> None:
    """Remove `element` and everything after it in document order."""
    node = element
    while (parent := node.getparent()) is not None:
        del parent[parent.index(node) + 1 :]  # its following siblings, at once
        node.tail = None
        node = parent
    if (parent := element.getparent()) is not None:
        parent.remove(element)


def prune_boilerplate(tree: lxml_html.HtmlElement) -> int:
    """Remove donation/newsletter/share/related/promo boxes in place; returns how many.

    One walk in document order: a box inside another box is never looked at on its own
    (the outer one decides), so each element is visited once and each box's text is read
    once, whatever the number of boxes (linear, not every box against every other).
    """
    total = len(_text_of(tree)) or 1
    outermost: list[lxml_html.HtmlElement] = []
    inside: set[lxml_html.HtmlElement] = set()  # boxes and everything within them
    for element in tree.iter():
        if element.getparent() in inside:
            inside.add(element)
        elif (
            isinstance(element.tag, str)
            and element.tag not in NEVER_PRUNED
            and _is_boilerplate(element)
        ):
            inside.add(element)
            outermost.append(element)
    removed = 0
    for element in outermost:
        if element.getparent() is None:
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
