"""Hostile text from outlets (titles, evidence, outlet names, URLs) is shown, never run."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
from aiohttp.test_utils import TestClient, TestServer

from wirewatch.config.loader import load_config_text
from wirewatch.models import Source
from wirewatch.service.server import build_app
from wirewatch.service.service import Service
from wirewatch.store import Store

PAYLOADS = [
    "<script>window.pwned=1</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(1)>",
    "{{ 7*7 }}{% raw %}",
    "\u202egnp.exe",
]
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def fill(store: Store) -> str:
    story_id = store.stories.create(
        watch="w", title=PAYLOADS[0], seen=T0, regions=[PAYLOADS[1]], places=[PAYLOADS[2]],
        score=0.7, centroid=np.ones(4, dtype=np.float32),
    )  # fmt: skip
    for n, payload in enumerate(PAYLOADS):
        source = Source(f"a-{n}", payload, "javascript:alert(1)", payload, T0, 0.7, payload)
        store.stories.add_source(
            story_id, source, joined_by="similar", vector=np.ones(4, dtype=np.float32),
            places=[], regions=[], fingerprint=None,
        )  # fmt: skip
    # a judgement's author and note are shown on the story page too
    store.feedback.record(
        watch="w",
        article_id="a-0",
        relevant=False,
        who=PAYLOADS[1],
        source="dashboard",
        story_id=story_id,
        note=PAYLOADS[2],
    )
    return story_id


async def pages(path) -> dict[str, str]:
    config = load_config_text(
        f"storage: {{url: 'sqlite:///{path}'}}\nserver: {{listen: '127.0.0.1:0'}}\n"
    )
    service = Service(config)
    service.store = Store(path)
    story_id = fill(service.store)
    bodies = {}
    async with TestClient(TestServer(build_app(service))) as client:
        for page in ("/", "/stories/rows", f"/stories/{story_id}", "/silences", "/deliveries"):
            response = await client.get(page)
            assert response.status == 200, page
            bodies[page] = await response.text()
    service.store.close()
    return bodies


def test_hostile_text_is_escaped_on_every_page(tmp_path):
    # a loop of its own in a thread: the browser tests' Playwright holds this thread's loop
    with ThreadPoolExecutor(1) as pool:
        bodies = pool.submit(asyncio.run, pages(tmp_path / "h.db")).result()
    for page, body in bodies.items():
        lowered = body.lower()
        assert "window.pwned" not in body or "&lt;script&gt;window.pwned" in body, page
        assert lowered.count("<script") == (1 if page == "/" else 0), page  # live.js alone
        assert "<img src=x" not in lowered and "<svg onload" not in lowered, page
        assert 'href="javascript:' not in lowered, page
    assert "{{ 7*7 }}" in bodies["/stories/s-1"]  # shown as written, not evaluated
