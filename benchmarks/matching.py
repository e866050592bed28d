"""Matching throughput against the raw model, measured in the same run.

    python -m benchmarks.matching [--articles N] [--repeat R]

Baselines, in the same run on the same articles:
- ``SentenceTransformer.encode`` of exactly the passages the matcher encodes: the ratio is
  the matcher's own overhead (goal: match_articles at >= 90 % of this rate);
- ``SentenceTransformer.encode`` of one text per article (title and text, truncated by the
  model): what reading every sentence separately costs against the simplest use of the model.
Measured: ``Matcher.match_articles`` (passage split, place finding, encoding with token
vectors in the worker thread, the learned detectors' multilingual pass when a watch is bound
to one, every watch decided). ``--corpus`` times reports of the corpus in every language
instead of synthetic English ones; ``--config benchmarks/watches.dayone.yaml`` the day-one
watches, all decided by detectors (the English model then reads only leads).

The three run in turn, ``--repeat`` rounds. Besides each one's best time, the ratio of the
matcher to the raw model is printed round by round (median and range), by wall time and by
the process's CPU time: the runs of one round share the machine's load. On a shared machine
read the CPU-time ratio of ``--threads 1``: one torch thread does not spin waiting for a
core that another process holds, so its CPU time is the work done.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.corpus_eval import DEFAULT_CONFIG, load_watches
from wirewatch.models import Article
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer

SENTENCES = [
    "Militants attacked a checkpoint near Quetta on Saturday, officials said.",
    "Mobile internet services were suspended in several districts of Balochistan.",
    "The provincial government said the measure was taken for security reasons.",
    "Traders in Gwadar complained that the outage had halted digital payments.",
    "Police in Karachi raised alert levels after the attacks in the north.",
    "The cricket board announced the schedule for the coming season in Lahore.",
    "Rain is expected across Sindh and Punjab later in the week.",
    "Analysts said the violence reflected a long-running insurgency in the region.",
]


def corpus_articles(count: int, words: int = 300) -> list[Article]:
    """``count`` reports of the training part of corpus/, the languages taken in turn (English,
    French, Urdu, Persian, Russian, …), each text repeated to at least ``words`` words."""
    from benchmarks.corpus_eval import load_part, to_article

    by_language: dict[str, list[dict]] = {}
    for item in load_part("train"):
        by_language.setdefault(str(item.get("language") or "en"), []).append(item)
    queues = sorted(by_language.values(), key=len, reverse=True)
    chosen: list[dict] = []
    while len(chosen) < count and any(queues):
        chosen += [q.pop(0) for q in queues if q][: count - len(chosen)]
    articles = []
    for item in chosen:
        text = item["text"]
        while len(text.split()) < words:
            text = f"{text}\n\n{item['text']}"
        articles.append(to_article({**item, "text": text}))
    return articles


def synthetic_articles(count: int, words: int = 300, seed: int = 7) -> list[Article]:
    rng = random.Random(seed)
    articles = []
    for i in range(count):
        sentences = [rng.choice(SENTENCES) for _ in range(words // 11)]
        paragraphs = [" ".join(sentences[j : j + 3]) for j in range(0, len(sentences), 3)]
        articles.append(
            Article(
                f"b-{i}",
                "bench",
                rng.choice(SENTENCES),
                "\n".join(paragraphs),
                datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    return articles


@dataclass
class Timings:
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # the process's, all threads


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_alternating(fns: dict[str, Callable[[], object]], repeat: int) -> Timings:
    """Wall and CPU times of each function, running them in turn ``repeat`` times: load that
    comes and goes on a shared machine then hits the functions of one round alike."""
    timings = Timings({name: [] for name in fns}, {name: [] for name in fns})
    for _ in range(repeat):
        for name, fn in fns.items():
            start, start_cpu = time.perf_counter(), cpu_seconds()
            fn()
            timings.wall[name].append(time.perf_counter() - start)
            timings.cpu[name].append(cpu_seconds() - start_cpu)
    return timings


def round_ratios(baseline: list[float], measured: list[float]) -> list[float]:
    """Rate of ``measured`` over the rate of ``baseline``, round by round."""
    return sorted(b / m for b, m in zip(baseline, measured, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument(
        "--corpus",
        action="store_true",
        help="reports of corpus/'s training part in every language (see corpus_articles) "
        "instead of synthetic English ones",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (default: torch's own choice)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    matcher = Matcher(load_watches(args.config), Encoder(), Gazetteer.load())
    matcher.prepare()
    articles = corpus_articles(args.articles) if args.corpus else synthetic_articles(args.articles)
    passages = [p for a in articles for p in matcher.analyse(a)[0]]
    model = matcher.encoder.load()
    batch = matcher.encoder.batch_size
    try:
        whole = [f"{a.title}\n{a.text}" for a in articles]
        times = timed_alternating(
            {
                "raw": lambda: model.encode(passages, batch_size=batch, show_progress_bar=False),
                "one": lambda: model.encode(whole, batch_size=batch, show_progress_bar=False),
                "full": lambda: asyncio.run(matcher.match_articles(articles)),
                "places": lambda: [matcher.analyse(a) for a in articles],
            },
            args.repeat,
        )
        raw, one, full, places = (min(times.wall[k]) for k in ("raw", "one", "full", "places"))
    finally:
        matcher.close()
    n = len(articles)
    print(
        f"{n} articles, {len(passages)} passages, {len(matcher.prepared)} watches "
        f"(best of {args.repeat}, run in turn)"
    )
    print(
        f"  raw model encode     {n / raw:8.1f} articles/s  ({len(passages) / raw:.1f} passages/s)"
    )
    print(f"  raw, 1 text/article  {n / one:8.1f} articles/s")
    print(
        f"  match_articles       {n / full:8.1f} articles/s  ratio to raw {raw / full:.2f}, "
        f"to 1 text/article {one / full:.2f}"
    )
    print(f"  passages + places    {n / places:8.1f} articles/s  ({places / full:.1%} of matching)")
    per_cpu = {k: n / min(times.cpu[k]) for k in ("raw", "full")}
    print(
        f"  by CPU time (one core's work): raw encode {per_cpu['raw']:.1f}, match_articles "
        f"{per_cpu['full']:.1f} articles per CPU-second"
    )
    for kind, values in (("wall", times.wall), ("CPU", times.cpu)):
        ratios = round_ratios(values["raw"], values["full"])
        print(
            f"  ratio to raw by {kind} time, round by round: median "
            f"{statistics.median(ratios):.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f}, "
            f"{len(ratios)} rounds)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
