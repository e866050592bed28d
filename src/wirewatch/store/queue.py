"""The shared article queue (PostgreSQL, several instances): polled articles wait here until
an instance's pipeline claims them.

An instance that polled an outlet writes its new articles here and marks their feed entries
seen, in one transaction (`enqueue` inside the caller's `transaction()`): nothing polled is
lost, and no article is queued twice by the same feed. Whichever instance is free claims the
oldest waiting articles (`claim`, `FOR UPDATE SKIP LOCKED`: claims never wait for each
other) inside a transaction it keeps open until the batch's articles, decisions, stories and
outbox rows are written and the claimed rows deleted (`remove`), all in one commit. An
instance that dies mid-batch (SIGKILL) takes its transaction with it: PostgreSQL rolls it
back and the rows are free for the next claim. Nothing here expires; the claim is the
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from wirewatch.models import Article
from wirewatch.store.db import Database, from_iso, iso
from wirewatch.util import utcnow


class ArticleQueueRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, articles: Iterable[Article], instance: str) -> None:
        """Queue `articles` (one already waiting is not queued again)."""
        now = iso(utcnow())
        self.db.executemany(
            "INSERT INTO article_queue (article_id, outlet, article, queued_at, queued_by)"
            " VALUES (?,?,?,?,?) ON CONFLICT (article_id) DO NOTHING",
            [(a.id, a.outlet, _dump(a), now, instance) for a in articles],
        )

    def claim(self, limit: int) -> list[Article]:
        """The oldest `limit` waiting articles no other transaction holds, held by this one
        until it ends (call inside `transaction()`)."""
        assert self.db.in_transaction, "a claim lives as long as its transaction"
        rows = self.db.execute(
            "SELECT article FROM article_queue ORDER BY seq LIMIT ?" + self.db.for_update,
            (limit,),
        ).fetchall()
        return [_load(row[0]) for row in rows]

    def remove(self, article_ids: Iterable[str]) -> None:
        self.db.executemany(
            "DELETE FROM article_queue WHERE article_id = ?", [(i,) for i in article_ids]
        )

    def depth(self) -> int:
        """Articles waiting, claimed ones included."""
        return self.db.execute("SELECT COUNT(*) FROM article_queue").fetchone()[0]


def _dump(article: Article) -> str:
    return json.dumps(
        {
            "id": article.id,
            "outlet": article.outlet,
            "title": article.title,
            "text": article.text,
            "published": iso(article.published),
            "url": article.url,
            "language": article.language,
            "text_source": article.text_source,
            "entry_key": article.entry_key,
        }
    )


def _load(text: str) -> Article:
    fields = json.loads(text)
    fields["published"] = from_iso(fields["published"])
    return Article(**fields)
