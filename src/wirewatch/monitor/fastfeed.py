"""The fast path for XML feeds: lxml, same entries as feedparser, or no answer at all.

`read_fast` returns None (and the caller uses feedparser) unless the document is one it
reads exactly as feedparser would: well-formed UTF-8 XML without a DOCTYPE, entity
declarations or xml:base; RSS 0.9x/2.0 (`<rss><channel><item>`), RSS 0.90/1.0 (RDF) or
Atom 1.0; and items whose every element is either one whose meaning is reproduced here
(title, link, description/summary, content, guid/id, the dates) or one that feedparser
reads into no field of `FeedEntry` (authors, categories, enclosures, media attachments,
comment counts, any element feedparser has no handler for). Element names are resolved the
way feedparser resolves them (its prefix for a namespace it knows, the document's prefix
otherwise), and checked against feedparser's own handler table, so a new handler in a
later feedparser makes the fast path decline rather than disagree.

The lxml parser never loads a DTD, never resolves entities and never touches the network;
the tree is reduced to plain strings in the parsing thread and dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
from array import array
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache

from feedparser.api import StrictFeedParser
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from lxml import etree

from wirewatch.models import FeedEntry
from wirewatch.monitor.feeds import (
    _simple_text,
    _ttl,
    entry_key,
    has_content,
    parse_date,
    parse_xml_feed,
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
_UTF8 = frozenset({"utf-8"})
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_BOMS = (b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff", b"\x00\x00\x00<", b"\x00<")
_local = threading.local()


class Declined(Exception):
    """The fast path does not reproduce feedparser on this document."""


@dataclass(frozen=True)
class _Item:
    key: str
    title: str  # raw (HTML or text) as the feed has it
    summary: str
    published: str
    updated: str
    links: tuple[str, ...]  # link candidates in `feeds._first_link` order, unresolved
    base: str

    @property
    def tricky(self) -> bool:
        return _tricky(self.title) or _tricky(self.summary)

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


@dataclass
class FastDocument:
    title: str
    ttl_s: float | None
    items: list[_Item]
    source: tuple[bytes, str, str | None]  # for feedparser, should an entry need it
    context: tuple  # what the items' reading depends on besides their own bytes
    element_keys: list[str | None]  # per item element read (None: no content), in order
    reader: str = "fast"
    # every item's chunk digest, where the items could be told apart by their bytes
    chunks: ItemChunks | None = None

    def keys(self) -> list[str]:
        return [item.key for item in self.items]

    def entries(self, keys: Collection[str] | None = None) -> list[FeedEntry]:
        chosen = self.items if keys is None else [i for i in self.items if i.key in keys]
        built = [item.build_plain() for item in chosen]
        if any(entry is None for entry in built):  # scripts, comments, a stray "<"
            # feedparser's sanitizer reads such text its own way: take its entries
            return parse_xml_feed(*self.source).entries({item.key for item in chosen})
        return [entry for entry in built if entry is not None and has_content(entry)]


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


@dataclass(frozen=True)
class KnownItems:
    """Item chunks of an outlet's feed already read, whose entries are all settled (seen).

    The digests are packed (8 bytes each, not a set of ints): one of these is kept per
    outlet, and a crawler may watch ten thousand.
    """

    context: tuple
    digests: array

    @classmethod
    def of(cls, context: tuple, digests: Iterable[int]) -> KnownItems:
        return cls(context, array("q", sorted(set(digests))))


@dataclass(frozen=True)
class ItemChunks:
    """The item chunks of one body: the digest of each, in order."""

    context: tuple
    digests: list[int]


_READ_ERRORS = (Declined, etree.XMLSyntaxError, ValueError, UnicodeError, RecursionError)


def read_fast(
    body: bytes, url: str, content_type: str | None = None, known: KnownItems | None = None
) -> FastDocument | None:
    """The document as feedparser would read it, or None where the fast path declines.

    With `known`, item chunks (the bytes from `<item` to `</item>`) whose digest is known
    are not read again: the document then holds only the other items, and `chunks`
    the digest of every item chunk, for the next time. A feed with one new item costs
    one item.
    """
    try:
        return _read_chunked(body, url, content_type, known)
    except _READ_ERRORS:
        return None


def _read_chunked(
    body: bytes, url: str, content_type: str | None, known: KnownItems | None
) -> FastDocument:
    spans = split_items(body)
    if spans is None:
        return _read(body, url, content_type)
    digests = [hash(body[start:end]) for start, end in spans]
    if known is not None:
        document = _read_new_chunks(body, url, content_type, spans, digests, known)
        if document is not None:
            return document
    document = _read(body, url, content_type)
    if len(document.element_keys) == len(spans):  # every chunk an item, and only those
        document.chunks = ItemChunks(document.context, digests)
    return document


def _read_new_chunks(
    body: bytes,
    url: str,
    content_type: str | None,
    spans: list[tuple[int, int]],
    digests: list[int],
    known: KnownItems,
) -> FastDocument | None:
    """Read only the chunks not in `known`, in a document made of the rest of the body."""
    settled = set(known.digests)
    new = [i for i, digest in enumerate(digests) if digest not in settled]
    mini = b"".join(
        [body[: spans[0][0]], *(body[slice(*spans[i])] for i in new), body[spans[-1][1] :]]
    )
    # Encoding, DTD, xml:base: the known chunks passed when they were read, so the
    # rest of the body is what is left to check (US-ASCII applies to all of it).
    _check_bytes(mini, content_type, whole=body)
    document = _read(mini, url, content_type, checked=True, source=(body, url, content_type))
    if document.context != known.context or len(document.element_keys) != len(new):
        return None  # namespaces or base changed, or the chunks were not items after all
    document.chunks = ItemChunks(document.context, digests)
    return document


_ITEM_TAGS = {b"rss": b"item", b"feed": b"entry"}
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.-]*:)?(rss|feed|RDF)[\s>]")
_ITEM_TOKENS = {tag: re.compile(rb"</?" + tag + rb"[\s>]") for tag in (b"item", b"entry")}
_SLASH, _GT = ord("/"), ord(">")


def split_items(body: bytes) -> list[tuple[int, int]] | None:
    """Byte spans of the item (entry) elements, or None when they cannot be told apart
    with certainty: no items, nested or self-closed ones, or anything but whitespace
    between them."""
    first = _FIRST_ELEMENT.search(body)
    root = _ROOT_TAG.match(body, first.start()) if first else None
    if root is None:
        return None
    tag = _ITEM_TAGS.get(root.group(2), b"item")
    spans: list[tuple[int, int]] = []
    start = None
    for token in _ITEM_TOKENS[tag].finditer(body, root.end()):
        closing = body[token.start() + 1] == _SLASH
        if not closing and start is None:
            start = token.start()
        elif closing and start is not None and body[token.end() - 1] == _GT:
            spans.append((start, token.end()))
            start = None
        else:
            return None
    if start is not None or not spans:
        return None
    for (_, end), (begin, _) in itertools.pairwise(spans):
        if begin > end and not body[end:begin].isspace():
            return None
    return spans


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:  # lxml parsers are not shared between threads
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            recover=False,
        )
        _local.parser = parser
    return parser


def _read(
    body: bytes,
    url: str,
    content_type: str | None,
    *,
    checked: bool = False,
    source: tuple[bytes, str, str | None] | None = None,
) -> FastDocument:
    if not checked:
        _check_bytes(body, content_type)
    elif not hasattr(_local, "utf8_document"):
        raise Declined("unchecked document")
    root = etree.fromstring(body, _parser())
    tag = root.tag
    source = source or (body, url, content_type)
    if tag == "rss":
        return _read_rss(root, source)
    if tag == f"{{{RDF}}}RDF":
        return _read_rdf(root, source)
    if tag == f"{{{ATOM}}}feed":
        return _read_atom(root, source)
    raise Declined(f"root element {tag!r}")


def _quick_text(text: str) -> str | None:
    """`text_of(text)`, or None where `_tricky`."""
    if "<" not in text:
        return text_of(text)
    if _TRICKY_TEXT.search(text):
        return None
    simple = _simple_text(text)
    return None if simple is None else text_lines(simple)


def _tricky(text: str) -> bool:
    """Markup that feedparser's sanitizer may read differently from `text_of`: scripts,
    comments, CDATA, or a "<" that does not open a plain tag."""
    if "<" not in text:
        return False
    return bool(_TRICKY_TEXT.search(text)) or _simple_text(text) is None


def _fp_text(value: str) -> str:
    """feedparser's repairs of element text: UTF-8 read as Latin-1 (only when the document
    is UTF-8 to feedparser), then the cp1252 characters in the C1 range."""
    if value.isascii():
        return value
    if _local.utf8_document:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_cp1252)


def _check_bytes(body: bytes, content_type: str | None, *, whole: bytes | None = None) -> None:
    """UTF-8 only (declared, served and actual), no DTD, no entity declarations, no xml:base.

    `whole`: the document `body` is made of (its new items), for the check that needs
    every byte (text/* without a charset must be US-ASCII).
    """
    if body.startswith(_BOMS):
        raise Declined("UTF-16/32")
    head = body[3:] if body.startswith(b"\xef\xbb\xbf") else body
    first = _FIRST_ELEMENT.search(body)
    prolog = body[: first.start() if first else len(body)].upper()
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:  # entities only come with a DTD
        raise Declined("DOCTYPE")
    if b"xml:base" in body:
        raise Declined("xml:base")
    declared = _DECLARED_ENCODING.match(head)
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8:
        raise Declined("declared encoding")
    served = _CHARSET.search(content_type or "")
    if served and served.group(1).lower() not in _UTF8:
        raise Declined("served charset")
    textual = bool(content_type and content_type.lower().startswith("text/"))
    if not served and textual and not (whole or body).isascii():  # us-ascii to feedparser
        raise Declined("text/* without charset")
    _local.utf8_document = not (textual and not served)


# ---- formats --------------------------------------------------------------------------


def _only_child(parent: etree._Element, tag: str) -> etree._Element:
    found = [child for child in parent if child.tag == tag]
    if len(found) != 1:
        raise Declined(f"{len(found)} {tag} elements")
    return found[0]


def _count(root: etree._Element, tag: str) -> int:
    return sum(1 for _ in root.iter(tag))


def _read_rss(root: etree._Element, source: tuple[bytes, str, str | None]) -> FastDocument:
    channel = _only_child(root, "channel")
    items = [child for child in channel if child.tag == "item"]
    if _count(root, "item") != len(items):
        raise Declined("items outside the channel")
    return _document(channel, items, source, atom=False)


def _read_rdf(root: etree._Element, source: tuple[bytes, str, str | None]) -> FastDocument:
    for namespace in (RSS10, RSS090):
        channels = [child for child in root if child.tag == f"{{{namespace}}}channel"]
        if channels:
            break
    else:
        raise Declined("RDF without an RSS channel")
    if len(channels) != 1:
        raise Declined("several channels")
    item_tag = f"{{{namespace}}}item"
    items = [child for child in root if child.tag == item_tag]
    if _count(root, item_tag) != len(items):
        raise Declined("items inside other elements")
    return _document(channels[0], items, source, atom=False)


def _read_atom(root: etree._Element, source: tuple[bytes, str, str | None]) -> FastDocument:
    entry_tag = f"{{{ATOM}}}entry"
    entries = [child for child in root if child.tag == entry_tag]
    if _count(root, entry_tag) != len(entries):
        raise Declined("entries inside other elements")
    return _document(root, entries, source, atom=True)


def _document(
    head: etree._Element,
    items: list[etree._Element],
    source: tuple[bytes, str, str | None],
    *,
    atom: bool,
) -> FastDocument:
    url = source[1]
    fields = _head_fields(head, atom)
    if _tricky(fields.get("title", "")):
        raise Declined("markup that feedparser's sanitizer reads its own way")
    title = text_of(fields.get("title", ""))
    ttl = _ttl(fields.get("ttl")) if not atom else None
    read = [_item(element, url, atom) for element in items]
    parent = items[0].getparent() if items else head
    context = (head.getroottree().getroot().tag, tuple(sorted(parent.nsmap.items(), key=str)), url)
    return FastDocument(
        title,
        ttl,
        [item for item in read if item is not None],
        source,
        context,
        [item.key if item is not None else None for item in read],
    )


def _head_fields(head: etree._Element, atom: bool) -> dict[str, str]:
    """The feed title and ttl, where they are plain direct children."""
    fields: dict[str, str] = {}
    for child in head:
        name = _name(child)
        if name in ("dc_title", "media_title"):
            raise Declined(f"feed {name}")
        if name in ("title", "ttl"):
            if name in fields or len(child):
                raise Declined(f"feed {name}")
            if atom and name == "title":
                _text_type(child)
            fields[name] = _fp_text((child.text or "").strip())
    return fields


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


def _name(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        raise Declined("entity or other special node")
    return _resolve(tag, element.prefix)


def _item(element: etree._Element, url: str, atom: bool) -> _Item | None:
    _check_item_attributes(element, atom)
    found: dict[str, etree._Element] = {}
    links: list[etree._Element] = []
    for child in element:
        name = _name(child)
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
        if _name(descendant) not in allowed or len(descendant):
            raise Declined(f"inside {name}")


def _item_from(
    found: dict[str, etree._Element],
    links: list[etree._Element],
    element: etree._Element,
    url: str,
    atom: bool,
) -> _Item | None:
    title = _leaf_text(found["title"], atom) if "title" in found else ""
    summary = _summary(found, atom)
    entry_id = _id(found, element, url)
    candidates = _link_candidates(links, found, entry_id, atom)
    if not (title or summary or any(candidates)):
        return None
    published = _date_text(found.get("published"))
    updated = _date_text(found.get("updated"))
    item = _Item("", title, summary, published, updated, candidates, url)
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
        _text_type(element)
    elif element.attrib:
        raise Declined("attributes on an RSS text element")
    return _fp_text((element.text or "").strip())


def _text_type(element: etree._Element) -> None:
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
        return _fp_text(_join(base, value) if value and _is_permalink(found) else value)
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
    """What `feeds._first_link` tries, in its order, from feedparser's `link` and `links`."""
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
    return _fp_text((element.text or "").strip())


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
