"""The fast path's reading of one item (entry) element, as feedparser would read it.

An item is read only when every element in it is either one whose meaning is reproduced
here (title, link, description/summary, content, guid/id, the dates) or one that feedparser
reads into no field of `FeedEntry`; anything else raises `Declined`, and the document goes
to feedparser (`feeds/generic.py`). Element names are resolved the way feedparser resolves
them (its prefix for a namespace it knows, the document's prefix otherwise), and checked
against feedparser's own handler table, so a new handler in a later feedparser makes the
fast path decline rather than disagree.

`feeds/fast.py` reads the document around the items and sets `reading.utf8_document`.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from feedparser.api import StrictFeedParser
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from lxml import etree

from wirewatch.models import FeedEntry
from wirewatch.monitor.feeds.entries import (
    entry_key,
    parse_date,
    simple_text,
    text_lines,
    text_of,
)
from wirewatch.monitor.urls import canonicalize_url

RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
RSS10 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ATOM = "http://www.w3.org/2005/Atom"
RDF_ABOUT = f"{{{RDF}}}about"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# feedparser's prefix for each namespace it knows ("" for the feed formats themselves)
_KNOWN_PREFIXES = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
# every element name feedparser has a handler for
_HANDLED = frozenset(
    name.split("_", 2)[2].lower()
    for name in dir(StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
)

# Elements of an item whose meaning the fast path reproduces: name -> field.
_FIELDS = {
    "title": "title",
    "description": "summary",
    "summary": "summary",
    "content_encoded": "content",
    "content": "content",
    "guid": "id",
    "id": "id",
    "pubdate": "published",
    "published": "published",
    "issued": "published",
    "dcterms_issued": "published",
    "updated": "updated",
    "modified": "updated",
    "dc_date": "updated",
    "dcterms_modified": "updated",
}
# Elements feedparser handles that put nothing into a FeedEntry field; allowed children.
_HARMLESS: dict[str, frozenset[str]] = {
    name: frozenset()
    for name in (
        "category",
        "comments",
        "enclosure",
        "created",
        "dcterms_created",
        "expirationdate",
        "dc_creator",
        "dc_author",
        "dc_contributor",
        "dc_subject",
        "dc_rights",
        "dc_language",
        "dc_publisher",
        "rights",
        "copyright",
        "media_content",
        "media_thumbnail",
        "media_credit",
        "media_keywords",
        "media_category",
        "media_rating",
        "media_license",
        "media_restriction",
        "media_player",
        "itunes_author",
        "itunes_duration",
        "itunes_explicit",
        "itunes_image",
        "itunes_keywords",
        "itunes_block",
        "georss_point",
        "language",
        "keywords",
    )
}
_HARMLESS["author"] = frozenset({"name", "email", "uri", "url", "homepage"})
_HARMLESS["contributor"] = _HARMLESS["author"]
_TEXT_TYPES = frozenset({"text", "html", "text/plain", "text/html"})
# feedparser's sanitizer and text_of disagree on these
_TRICKY_TEXT = re.compile(
    r"<\s*/?\s*(?:script|style|applet|noscript|template|!--|!\[CDATA\[)", re.IGNORECASE
)

# Per thread, what the document being read is: `utf8_document` (set by `fast._check_bytes`)
reading = threading.local()


class Declined(Exception):
    """The fast path does not reproduce feedparser on this document."""


@dataclass(frozen=True)
class Item:
    key: str
    title: str  # raw (HTML or text) as the feed has it
    summary: str
    published: str
    updated: str
    links: tuple[str, ...]  # link candidates in `generic._first_link` order, unresolved
    base: str

    @property
    def tricky(self) -> bool:
        return is_tricky(self.title) or is_tricky(self.summary)

    def build_plain(self) -> FeedEntry | None:
        """The entry, or None where feedparser's sanitizer must read the text instead."""
        title, summary = _quick_text(self.title), _quick_text(self.summary)
        if title is None or summary is None:
            return None
        published = parse_date(self.published) or parse_date(self.updated)
        return FeedEntry(
            key=self.key, url=self.link(), title=title, summary=summary, published=published
        )

    def link(self) -> str | None:
        for candidate in self.links:
            if candidate and (url := _link_of(self.base, candidate)):
                return url
        return None


_PLAIN_URL = re.compile(r"https?://[^/?#;\s][^?#;\s]*")
_ABSOLUTE_URL = re.compile(r"https?://[^/]", re.IGNORECASE)


def _join(base: str, value: str) -> str:
    """feedparser's resolution of `value` against `base` (the same string for plain URLs)."""
    if value.isascii() and _PLAIN_URL.fullmatch(value):
        return value
    return _urljoin(base, value)


def _link_of(base: str, value: str) -> str | None:
    """`canonicalize_url` of feedparser's resolution of `value`.

    For an absolute http(s) URL feedparser's join only re-spells what canonicalisation
    re-spells anyway, so it is skipped; not where it would drop a tab or newline.
    """
    if _ABSOLUTE_URL.match(value) and value.isprintable():
        return canonicalize_url(value)
    return canonicalize_url(_join(base, value), base)


# ---- text -----------------------------------------------------------------------------


def _quick_text(text: str) -> str | None:
    """`text_of(text)`, or None where `is_tricky`."""
    if "<" not in text:
        return text_of(text)
    if _TRICKY_TEXT.search(text):
        return None
    simple = simple_text(text)
    return None if simple is None else text_lines(simple)


def is_tricky(text: str) -> bool:
    """Markup that feedparser's sanitizer may read differently from `text_of`: scripts,
    comments, CDATA, or a "<" that does not open a plain tag."""
    if "<" not in text:
        return False
    return bool(_TRICKY_TEXT.search(text)) or simple_text(text) is None


def feedparser_text(value: str) -> str:
    """feedparser's repairs of element text: UTF-8 read as Latin-1 (only when the document
    is UTF-8 to feedparser), then the cp1252 characters in the C1 range."""
    if value.isascii():
        return value
    if reading.utf8_document:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_cp1252)


# ---- items ----------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _resolve(tag: str, prefix: str | None) -> str:
    """feedparser's name for an element: its prefix for a known namespace, else the given one."""
    if tag.startswith("{"):
        namespace, local = tag[1:].split("}", 1)
        known = _KNOWN_PREFIXES.get(namespace.lower())
        prefix = known if known is not None else prefix
    else:
        local = tag
    local = local.lower()
    return f"{prefix.lower()}_{local}" if prefix else local


def element_name(element: etree._Element) -> str:
    """feedparser's name for `element` ("title", "dc_date", ...); `Declined` for a non-element."""
    tag = element.tag
    if not isinstance(tag, str):
        raise Declined("entity or other special node")
    return _resolve(tag, element.prefix)


def read_item(element: etree._Element, url: str, atom: bool) -> Item | None:
    """The item as feedparser reads it (None: no content), or `Declined`."""
    _check_item_attributes(element, atom)
    found: dict[str, etree._Element] = {}
    links: list[etree._Element] = []
    for child in element:
        name = element_name(child)
        field = _FIELDS.get(name)
        if name == "link":
            links.append(child)
        elif field is not None:
            if field in found:
                raise Declined(f"two {field} elements")
            found[field] = child
        else:
            _check_other(child, name)
    return _item_from(found, links, element, url, atom)


def _check_item_attributes(element: etree._Element, atom: bool) -> None:
    allowed = {XML_LANG} if atom else {RDF_ABOUT, XML_LANG}
    if any(name not in allowed for name in element.attrib):
        raise Declined("item attributes")


def _check_other(child: etree._Element, name: str) -> None:
    allowed = _HARMLESS.get(name)
    if allowed is None:
        if name in _HANDLED:
            raise Declined(f"element {name}")
        allowed = frozenset()  # feedparser stores it under its own name: no field of ours
    if not len(child):
        return
    for descendant in child.iterdescendants():
        if element_name(descendant) not in allowed or len(descendant):
            raise Declined(f"inside {name}")


def _item_from(
    found: dict[str, etree._Element],
    links: list[etree._Element],
    element: etree._Element,
    url: str,
    atom: bool,
) -> Item | None:
    title = _leaf_text(found["title"], atom) if "title" in found else ""
    summary = _summary(found, atom)
    entry_id = _id(found, element, url)
    candidates = _link_candidates(links, found, entry_id, atom)
    if not (title or summary or any(candidates)):
        return None
    published = _date_text(found.get("published"))
    updated = _date_text(found.get("updated"))
    item = Item("", title, summary, published, updated, candidates, url)
    if entry_id:
        key = entry_key(entry_id, None, "", "")
    elif link := item.link():
        key = entry_key("", link, "", "")
    elif item.tricky:
        raise Declined("markup that feedparser's sanitizer reads its own way")
    else:  # the content hash: the text decides the key
        key = entry_key("", None, text_of(title), text_of(summary))
    object.__setattr__(item, "key", key)  # frozen, but not shared yet
    return item


def _leaf_text(element: etree._Element, atom: bool) -> str:
    if len(element):
        raise Declined("markup inside a text element")
    if atom:
        check_text_type(element)
    elif element.attrib:
        raise Declined("attributes on an RSS text element")
    return feedparser_text((element.text or "").strip())


def check_text_type(element: etree._Element) -> None:
    """`Declined` unless an Atom text element is plain text or HTML, with no other attributes."""
    kind = element.get("type")
    if kind is not None and kind.lower() not in _TEXT_TYPES:
        raise Declined(f"content type {kind}")
    if any(name != "type" and name != XML_LANG for name in element.attrib):
        raise Declined("text element attributes")


def _summary(found: dict[str, etree._Element], atom: bool) -> str:
    """feedparser's rule: the summary (description) element, else the content."""
    summary = _leaf_text(found["summary"], atom) if "summary" in found else ""
    return summary or (_leaf_text(found["content"], atom) if "content" in found else "")


def _id(found: dict[str, etree._Element], element: etree._Element, base: str) -> str:
    """guid/id (resolved against the feed URL when it is a permalink, as feedparser does)."""
    if "id" in found:
        guid = found["id"]
        if len(guid) or any(n.lower() != "ispermalink" for n in guid.attrib):
            raise Declined("guid with markup or attributes")
        value = (guid.text or "").strip()
        return feedparser_text(_join(base, value) if value and _is_permalink(found) else value)
    return (element.get(RDF_ABOUT) or "").strip()


def _is_permalink(found: dict[str, etree._Element]) -> bool:
    guid = found.get("id")
    if guid is None:
        return False
    flags = [value for name, value in guid.attrib.items() if name.lower() == "ispermalink"]
    return not flags or flags[0] == "true"


def _link_candidates(
    links: list[etree._Element],
    found: dict[str, etree._Element],
    entry_id: str,
    atom: bool,
) -> tuple[str, ...]:
    """What `generic._first_link` tries, in its order, from feedparser's `link` and `links`."""
    if atom:
        main, alternates = _atom_links(links)
    else:
        main, alternates = _rss_link(links), []
    if main is None and _is_permalink(found):
        main = entry_id  # feedparser: a permalink guid is the link when there is none
    return tuple(c for c in (main, *alternates) if c)


def _rss_link(links: list[etree._Element]) -> str | None:
    if not links:
        return None
    if len(links) > 1:
        raise Declined("several RSS links")
    element = links[0]
    if len(element) or element.attrib:
        raise Declined("RSS link with markup or attributes")
    return feedparser_text((element.text or "").strip())


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_LINK_ATTRIBUTES = frozenset({"href", "rel", "type", "title", "hreflang", "length", XML_LANG})


def _atom_links(links: list[etree._Element]) -> tuple[str | None, list[str]]:
    """(the last alternate HTML link, every alternate link) as feedparser resolves them."""
    main: str | None = None
    alternates: list[str] = []
    for element in links:
        if len(element) or (element.text or "").strip():
            raise Declined("atom link with content")
        if set(element.attrib) - _LINK_ATTRIBUTES or element.get("href") is None:
            raise Declined("atom link attributes")
        href = element.get("href", "")
        rel = element.get("rel", "alternate")
        if rel != "alternate":
            continue
        alternates.append(href)
        if element.get("type", "text/html").lower() in _HTML_TYPES:
            main = href
    return main, alternates


def _date_text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    if len(element):
        raise Declined("markup inside a date")
    return (element.text or "").strip()
