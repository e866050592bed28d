"""Page extraction on hostile pages against an ordinary page of the same size, in one run.

    python -m benchmarks.hostile_pages [--sizes 0.25,1,4] [--repeat 3] [--pairwise]

For each size (MB) it times `extract_article` (parse, page budget, pruning, trafilatura)
on:
- normal: an article page as outlets publish them: a story of 40 paragraphs inside the
  furniture of a news site (menu, share bar, related links, newsletter box, footer), the
  rest of the size in inline scripts and styles, as on real pages;
- share boxes: the story, then `<div class="share">` boxes up to the size (issue 17:
  pruning compared every such box with every other one: 6 s at 0.25 MB, minutes at 1 MB);
- tiny paragraphs: the story, then `<p>a b</p>` up to the size (trafilatura's own cost
  grows faster than the page: tens of seconds for 1 MB without the page budget);
- nested divs: the story, then divs nested 250 deep (the parser's limit) up to the size.
Each is the median of `--repeat` runs, the kinds taking turns. It prints seconds, the
ratio to the normal page of the same size, and what the page budget cut.
`--pairwise` also times pruning alone with the rule as it was first written (each box
against every other) on the share-box pages up to 1 MB: the figure the fix removes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from lxml import html as lxml_html
from trafilatura.utils import load_html

from wirewatch import defaults
from wirewatch.monitor import extract
from wirewatch.monitor.extract import extract_article, prune_boilerplate

MB = 1024 * 1024
_PROSE = (
    "officials said the attack began shortly after midnight in the district police "
    "province security forces residents reported gunfire near checkpoint highway market "
    "government announced inquiry families killed wounded hospital capital council "
    "minister spokesman statement tuesday night morning hours later"
)
WORDS = _PROSE.split()


def story(rng: random.Random, paragraphs: int = 40) -> str:
    return "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 70))) + ".</p>"
        for _ in range(paragraphs)
    )


def normal_page(size: int, rng: random.Random) -> str:
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(120))
    related = "".join(f'<li><a href="/news/{i}">Related story {i}</a></li>' for i in range(20))
    body = (
        f'<header><nav class="menu"><ul>{nav}</ul></nav></header>'
        "<main><article><h1>Gunmen attack checkpoints in Kech</h1>"
        '<div class="share-bar"><a href="#">Share on Facebook</a></div>'
        f"{story(rng)}</article>"
        f'<aside class="related"><h2>You may also like</h2><ul>{related}</ul></aside>'
        '<div class="newsletter">Sign up for our morning briefing</div></main>'
        "<footer>All rights reserved</footer>"
    )
    head = "<head><title>Gunmen attack checkpoints in Kech</title></head>"
    room = max(0, size - len(head) - len(body) - 80)
    values, length = [], 0
    while length < room:
        values.append(f'{{"k{len(values)}":"{rng.random():.12f}"}},')
        length += len(values[-1])
    scripts = f"<script>window.__DATA__=[{''.join(values)}];</script>"
    return f"<html lang='en'>{head}<body>{scripts}{body}</body></html>"


def filled(unit: Callable[[int], str], size: int, rng: random.Random) -> str:
    """The story, then `unit(i)` repeated up to `size` bytes."""
    start = f"<html lang='en'><body><article><h1>Kech</h1>{story(rng)}"
    parts = [start]
    length, i = len(start), 0
    while length < size:
        part = unit(i)
        parts.append(part)
        length += len(part)
        i += 1
    return "".join(parts) + "</article></body></html>"


KINDS: dict[str, Callable[[int, random.Random], str]] = {
    "normal": normal_page,
    "share boxes": lambda size, rng: filled(lambda i: f'<div class="share">s{i}</div>', size, rng),
    "tiny paragraphs": lambda size, rng: filled(lambda i: "<p>a b</p>", size, rng),
    "nested divs": lambda size, rng: filled(
        lambda i: "<div>" * 250 + f"t{i}" + "</div>" * 250, size, rng
    ),
}


def timed(function: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def pairwise_prune(tree: lxml_html.HtmlElement) -> int:
    """Pruning as first written (every box checked against every other: quadratic): the
    baseline this benchmark times, and the reference tests/monitor/test_extract.py holds the
    linear walk to."""
    total = len(extract._text_of(tree)) or 1
    doomed = [
        e
        for e in tree.iter()
        if isinstance(e.tag, str)
        and e.tag not in extract.NEVER_PRUNED
        and extract._is_boilerplate(e)
    ]
    removed = 0
    for element in doomed:
        ancestors = set(element.iterancestors())
        if element.getparent() is None or any(o in ancestors for o in doomed if o is not element):
            continue
        if len(extract._text_of(element)) / total > defaults.EXTRACT_MAX_PRUNED_SHARE:
            continue
        if element.find(".//article") is not None or element.find(".//main") is not None:
            continue
        element.drop_tree()
        removed += 1
    return removed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.25,1,4", help="page sizes in MB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairwise", action="store_true", help="also time the old pruning")
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    print(
        f"page budget: {defaults.EXTRACT_MAX_ELEMENTS:,} elements, "
        f"{defaults.EXTRACT_MAX_TEXT_CHARS:,} characters of text"
    )
    print(f"{'size':>6}  {'page':16} {'bytes':>10} {'seconds':>8} {'x normal':>8}  cut")
    for size_mb in sizes:
        size = int(size_mb * MB)
        pages = {kind: make(size, random.Random(7)) for kind, make in KINDS.items()}
        runs: dict[str, list[float]] = {kind: [] for kind in pages}
        cuts: dict[str, str] = {}
        for _ in range(args.repeat):
            for kind, page in pages.items():  # the kinds take turns
                seconds, extracted = timed(lambda page=page: extract_article(page, None))
                runs[kind].append(seconds)
                cuts[kind] = getattr(extracted, "cut", None) or "-"
        normal = statistics.median(runs["normal"])
        for kind, page in pages.items():
            seconds = statistics.median(runs[kind])
            print(
                f"{size_mb:>5g}M  {kind:16} {len(page):>10,} {seconds:>8.2f} "
                f"{seconds / normal:>8.1f}  {cuts[kind]}"
            )
        if args.pairwise and size_mb <= 1:
            page = pages["share boxes"]
            linear, _ = timed(lambda page=page: prune_boilerplate(load_html(page)))
            pairwise, _ = timed(lambda page=page: pairwise_prune(load_html(page)))
            print(
                f"{size_mb:>5g}M  pruning alone, share boxes: linear {linear:.2f} s, "
                f"pairwise (as before) {pairwise:.2f} s"
            )


if __name__ == "__main__":
    main()
