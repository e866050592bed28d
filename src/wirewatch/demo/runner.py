"""`wirewatch demo`: the real service against built-in local outlets, alerts on the terminal."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from importlib.resources import files
from pathlib import Path
from typing import TextIO

from wirewatch.config.loader import load_config_text
from wirewatch.config.schema import Config
from wirewatch.demo.articles import DEMO_ARTICLES, DEMO_OUTLETS
from wirewatch.demo.site import DemoSite
from wirewatch.service.service import CycleReport, Service


def demo_config(base_url: str, folder: Path) -> Config:
    os.environ["DEMO_BASE_URL"] = base_url.rstrip("/")
    text = (files("wirewatch.demo") / "demo.yaml").read_text(encoding="utf-8")
    config = load_config_text(text, filename="demo.yaml")
    config.storage.url = f"sqlite:///{folder / 'demo.db'}"
    return config


def print_summary(service: Service, report: CycleReport, seconds: float, out: TextIO) -> None:
    stories = service.store.stories.recent(limit=100)
    out.write(f"\n=== demo summary ({seconds:.1f} s) ===\n")
    polled = sum(1 for p in report.polls if p.status != "error")
    out.write(
        f"outlets polled: {polled}/{len(report.polls)}; articles: {len(report.outcomes)}; "
        f"stories: {len(stories)}\n"
    )
    for story in sorted(stories, key=lambda s: (s.watch, s.id)):
        out.write(f"\n[{story.watch}] {story.id}: {story.title}\n")
        out.write(f"  places: {', '.join(story.places) or '-'}; sources: {len(story.sources)}\n")
        for source in story.sources:
            out.write(f"  - {source.outlet}: {source.title} (score {source.score:.2f})\n")
    quiet = [o.article for o in report.outcomes if not o.stories and not o.duplicate_of]
    out.write(f"\nno alert for {len(quiet)} articles:\n")
    for article in quiet:
        out.write(f"  - {article.outlet}: {article.title}\n")
    pending = service.delivery.pending()
    if pending:
        out.write(f"\n{pending} alerts could not be delivered\n")


async def run_demo(*, forever: bool, out: TextIO) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wirewatch-demo-") as folder:
        async with DemoSite(DEMO_ARTICLES, DEMO_OUTLETS) as site:
            config = demo_config(site.base_url, Path(folder))
            out.write(
                f"wirewatch demo: {len(config.outlets)} local outlets at {site.base_url}, "
                f"{len(config.watches)} watches; loading the model…\n"
            )
            out.flush()
            service = Service(config)
            try:
                await service.start()
                report = await service.run_cycle()
                print_summary(service, report, time.monotonic() - started, out)
                if forever:
                    out.write("\npolling on (Ctrl-C stops)…\n")
                    loop = asyncio.get_running_loop()
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        loop.add_signal_handler(sig, service.stopping.set)
                    await service.run_forever()
            finally:
                await service.stop()
    return 0
