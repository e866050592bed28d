"""`wirewatch explain`: one article (a URL, an HTML file, or standard input) against every watch."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from wirewatch.cli.common import AddCommand, load_or_report, shown, shown_text
from wirewatch.config.schema import Config
from wirewatch.models import Article


class SourceError(Exception):
    pass


def _looks_like_html(data: bytes) -> bool:
    head = data[:2048].lower()
    return b"<html" in head or b"<!doctype" in head or b"<body" in head or b"<p" in head


def article_from_bytes(data: bytes, origin: str, url: str | None = None) -> Article:
    """HTML is extracted like a crawled page; plain text is read as title line + body."""
    from wirewatch.monitor.extract import extract_article

    now = datetime.now(UTC)
    if _looks_like_html(data):
        extracted = extract_article(data, url)
        if extracted is None:
            raise SourceError(f"{origin}: no article text could be extracted")
        return Article(
            id="explain",
            outlet="explain",
            title=extracted.title or "",
            text=extracted.text,
            published=extracted.published or now,
            url=url,
            language=extracted.language,
        )
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        raise SourceError(f"{origin}: empty input")
    title, _, body = text.partition("\n")
    return Article(
        id="explain",
        outlet="explain",
        title=title.strip(),
        text=body.strip(),
        published=now,
        url=url,
        text_source="corpus",
    )


async def read_source(config: Config, source: str) -> Article:
    from wirewatch.monitor.fetch import Fetcher

    if source == "-":
        return article_from_bytes(sys.stdin.buffer.read(), "standard input")
    if source.startswith(("http://", "https://")):
        async with Fetcher(config.crawler) as fetcher:
            result = await fetcher.get(
                source, max_bytes=config.crawler.page_max_bytes, allow_private=True
            )
        if result.error or result.status != 200:
            raise SourceError(f"{source}: {result.error or f'HTTP {result.status}'}")
        return article_from_bytes(result.body, source, url=result.final_url or source)
    try:
        data = await asyncio.to_thread(Path(source).read_bytes)
        return article_from_bytes(data, source)
    except OSError as exc:
        raise SourceError(f"{source}: {exc.strerror or exc}") from None


async def explain_source(config: Config, source: str, out: TextIO) -> int:
    from wirewatch.rules.explain import format_explanation
    from wirewatch.service.wiring import build_matcher

    try:
        article = await read_source(config, source)
    except SourceError as exc:
        print(f"wirewatch explain: {shown(exc)}", file=sys.stderr)
        return 1
    matcher = await asyncio.to_thread(build_matcher, config)
    try:
        [(encoding, matches)] = await matcher.match_articles([article])
    finally:
        matcher.close()
    explanation = format_explanation(
        article, encoding, matches, config.watches, matcher.prepared, config.model.name
    )
    out.write(shown_text(explanation) + "\n")  # the article's text: no terminal escapes
    return 0


def register(command: AddCommand) -> None:
    explain = command("explain", cmd_explain, "Show per watch why one article matches or not.")
    explain.add_argument("source", metavar="URL|FILE.html|-")


def cmd_explain(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return 1
    return asyncio.run(explain_source(config, args.source, sys.stdout))
