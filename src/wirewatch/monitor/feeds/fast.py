"""The fast path for XML feeds: lxml, same entries as feedparser, or no answer at all.

`read_fast` returns None (and the caller uses feedparser) unless the document is one it
reads exactly as feedparser would: well-formed UTF-8 XML without a DOCTYPE, entity
declarations or xml:base; RSS 0.9x/2.0 (`<rss><channel><item>`), RSS 0.90/1.0 (RDF) or
Atom 1.0; and items whose every element is either one whose meaning is reproduced here
(title, link, description/summary, content, guid/id, the dates) or one that feedparser
reads into no field of `FeedEntry` (authors, categories, enclosures, media attachments,
comment counts, any element feedparser has no handler for).

This module reads the document: its bytes, root and channel, and the split into item
chunks that lets a feed read again cost only its new items. One item is read, and its
elements checked against feedparser's, by `feeds/fast_items.py`.

The lxml parser never loads a DTD, never resolves entities and never touches the network;
the tree is reduced to plain strings in the parsing thread and dropped.
"""

from __future__ import annotations

import itertools
import re
import threading
from array import array
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from lxml import etree

from wirewatch.models import FeedEntry
from wirewatch.monitor.feeds.entries import has_content, read_prolog, text_of, ttl_seconds
from wirewatch.monitor.feeds.fast_items import (
    ATOM,
    RDF,
    RSS090,
    RSS10,
    Declined,
    Item,
    check_text_type,
    element_name,
    feedparser_text,
    is_tricky,
    read_item,
    reading,
)
from wirewatch.monitor.feeds.generic import parse_xml_feed

_UTF8 = frozenset({"utf-8"})
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_BOMS = (b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff", b"\x00\x00\x00<", b"\x00<")
_parsers = threading.local()  # lxml parsers are not shared between threads


@dataclass
class FastDocument:
    title: str
    ttl_s: float | None
    items: list[Item]
    source: tuple[bytes, str, str | None]  # for feedparser, should an entry need it
    context: tuple  # what the items' reading depends on besides their own bytes
    element_keys: list[str | None]  # per item element read (None: no content), in order
    reader: str = "fast"
    cut: str | None = None  # what feedparser's budget left out of `entries` (see there)
    # every item's chunk digest, where the items could be told apart by their bytes
    chunks: ItemChunks | None = None
    # and then: the span in `source` of each item element read (as `element_keys`), and
    # where the items of the whole body begin and end
    spans: list[tuple[int, int]] | None = None
    frame: tuple[int, int] = (0, 0)

    def keys(self) -> list[str]:
        return [item.key for item in self.items]

    def entries(self, keys: Collection[str] | None = None) -> list[FeedEntry]:
        chosen = self.items if keys is None else [i for i in self.items if i.key in keys]
        built = [item.build_plain() for item in chosen]
        if any(entry is None for entry in built):  # scripts, comments, a stray "<"
            # feedparser's sanitizer reads such text its own way: take its entries
            wanted = {item.key for item in chosen}
            document = parse_xml_feed(*self._only(wanted))
            self.cut = document.cut or self.cut  # entries cut off wait for the next polls
            return document.entries(wanted)
        return [entry for entry in built if entry is not None and has_content(entry)]

    def _only(self, keys: set[str]) -> tuple[bytes, str, str | None]:
        """The source with only the items of `keys`, where the items' spans are known:
        feedparser reads those, not the whole feed (it costs a second per megabyte, and
        a big feed would be cut to its first items for it: `FEEDPARSER_MAX_BYTES`)."""
        body, url, content_type = self.source
        if self.spans is None:
            return self.source
        chosen = [
            body[a:b]
            for (a, b), key in zip(self.spans, self.element_keys, strict=True)
            if key in keys
        ]
        start, end = self.frame
        return b"".join([body[:start], *chosen, body[end:]]), url, content_type


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
        document.spans, document.frame = spans, (spans[0][0], spans[-1][1])
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
    document.spans, document.frame = [spans[i] for i in new], (spans[0][0], spans[-1][1])
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
    parser = getattr(_parsers, "parser", None)
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
        _parsers.parser = parser
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
    elif not hasattr(reading, "utf8_document"):
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


def _check_bytes(body: bytes, content_type: str | None, *, whole: bytes | None = None) -> None:
    """UTF-8 only (declared, served and actual), no DTD, no entity declarations, no xml:base.

    `whole`: the document `body` is made of (its new items), for the check that needs
    every byte (text/* without a charset must be US-ASCII).
    """
    if body.startswith(_BOMS):
        raise Declined("UTF-16/32")
    head = body[3:] if body.startswith(b"\xef\xbb\xbf") else body
    prolog = read_prolog(body)
    before_root = body[: prolog.end].upper()  # comments and PIs included
    if prolog.doctype is not None or b"<!DOCTYPE" in before_root or b"<!ENTITY" in before_root:
        raise Declined("DOCTYPE")  # entities only come with a DTD
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
    reading.utf8_document = not (textual and not served)


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
    if is_tricky(fields.get("title", "")):
        raise Declined("markup that feedparser's sanitizer reads its own way")
    title = text_of(fields.get("title", ""))
    ttl = ttl_seconds(fields.get("ttl")) if not atom else None
    read = [read_item(element, url, atom) for element in items]
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
        name = element_name(child)
        if name in ("dc_title", "media_title"):
            raise Declined(f"feed {name}")
        if name in ("title", "ttl"):
            if name in fields or len(child):
                raise Declined(f"feed {name}")
            if atom and name == "title":
                check_text_type(child)
            fields[name] = feedparser_text((child.text or "").strip())
    return fields
