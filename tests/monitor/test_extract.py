"""Article pages to text: the story stays, the page furniture goes."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html
from trafilatura.utils import load_html

from benchmarks.hostile_pages import pairwise_prune
from tests.fixtures.outlets import BOILERPLATE_MARKERS, OutletServer
from wirewatch import defaults
from wirewatch.monitor.extract import cut_to_budget, extract_article, prune_boilerplate

PARAGRAPHS = [
    "QUETTA: Gunmen attacked three security checkpoints in Kech district on Tuesday night, "
    "officials said, in what appeared to be a coordinated assault.",
    "The attacks began shortly after midnight and lasted for several hours, according to a "
    "senior police official who spoke on condition of anonymity.",
    "Read more: Security tightened across the province after last month's violence",
    "Residents of Turbat said they heard heavy gunfire and explosions until the early morning.",
    "The provincial government announced compensation for the families of those killed and "
    "ordered an inquiry into the security lapse.",
]


@pytest.mark.parametrize("layout", ["wordpress", "modern"])
def test_boilerplate_is_removed_and_the_story_kept(layout: str) -> None:
    html = OutletServer.article_html("Gunmen attack checkpoints in Kech", PARAGRAPHS, layout=layout)
    extracted = extract_article(html, "https://news.example.org/news/1")
    assert extracted is not None
    assert extracted.title == "Gunmen attack checkpoints in Kech"
    for paragraph in PARAGRAPHS:
        assert paragraph in extracted.text
    assert extracted.text.splitlines()[-1] == PARAGRAPHS[-1]
    leaked = [marker for marker in BOILERPLATE_MARKERS if marker in extracted.text]
    assert leaked == []
    assert extracted.language == "en"
    assert extracted.published is not None and extracted.published.year == 2026


def test_page_without_article_text_gives_none() -> None:
    assert extract_article(b"", None) is None
    assert (
        extract_article("<html><body><nav><a href='/'>Home</a></nav></body></html>", None) is None
    )


def test_body_with_a_share_class_is_not_mistaken_for_a_share_bar() -> None:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    script = "<script>var x = '" + "a" * 200_000 + "';</script>"
    html = f"<html><body>{script}<div class='post-body share-enabled'>{body}</div></body></html>"
    extracted = extract_article(html, None)
    assert extracted is not None and PARAGRAPHS[0] in extracted.text


# ---- hostile pages -------------------------------------------------------------------------

TAGS = ["p", "div", "article", "nav", "aside", "script", "style", "b", "a", "li", "ul", "table"]
fragments = st.recursive(
    st.text(max_size=80),
    lambda inner: st.builds(
        lambda tag, attrs, children: f"<{tag}{attrs}>{''.join(children)}</{tag}>",
        st.sampled_from(TAGS),
        st.sampled_from(["", ' class="comments"', ' id="donate"', ' lang="fr"', " onclick=x()"]),
        st.lists(inner, max_size=4),
    ),
    max_leaves=20,
)
broken = st.sampled_from(
    ["<", "</div>", "<p", "<!--", "]]>", "<![CDATA[", "&#x0;", "\x00", "\udcff"]
)


@settings(max_examples=150, deadline=None)
@given(body=st.lists(st.one_of(fragments, broken), max_size=12), as_bytes=st.booleans())
def test_any_page_gives_text_or_none_never_an_exception(body: list[str], as_bytes: bool) -> None:
    html = "<html><head><title>T</title></head><body>" + "".join(body) + "</body></html>"
    page: bytes | str = html.encode("utf-8", "surrogatepass") if as_bytes else html
    extracted = extract_article(page, "https://news.example.org/x")
    assert extracted is None or (isinstance(extracted.text, str) and extracted.text.strip())


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_text_or_none(data: bytes) -> None:
    extracted = extract_article(data, None)
    assert extracted is None or isinstance(extracted.text, str)


# ---- cost: a page can make extraction slow, never stall it ---------------------------------


def share_boxes(count: int) -> str:
    """A page of `count` share boxes after a short story: what made pruning quadratic."""
    boxes = "".join(f'<div class="share">s{i}</div>' for i in range(count))
    story = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"<html><body><article><h1>Kech</h1>{story}{boxes}</article></body></html>"


def test_a_megabyte_of_share_boxes_is_pruned_in_linear_time() -> None:
    """45,000 boxes (1 MB): each was checked against every other (about 90 s), now once."""
    tree = load_html(share_boxes(45_000))
    started = time.perf_counter()
    removed = prune_boilerplate(tree)
    elapsed = time.perf_counter() - started
    assert removed == 45_000
    assert elapsed < 20  # generous: linear takes well under a second, quadratic minutes


def test_a_megabyte_hostile_page_gives_its_story_quickly_and_says_it_was_cut() -> None:
    page = share_boxes(45_000)
    assert len(page) > 1_000_000
    started = time.perf_counter()
    extracted = extract_article(page, "https://news.example.org/x")
    assert time.perf_counter() - started < 20  # generous: seconds, where it took minutes
    assert extracted is not None and extracted.text.splitlines() == PARAGRAPHS
    assert extracted.cut == f"page cut at {defaults.EXTRACT_MAX_ELEMENTS:,} elements"


def test_an_ordinary_page_is_not_cut() -> None:
    html = OutletServer.article_html("Gunmen attack checkpoints in Kech", PARAGRAPHS)
    extracted = extract_article(html, None)
    assert extracted is not None and extracted.cut is None


def test_a_page_with_too_much_text_is_cut_at_the_text_budget() -> None:
    story = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    filler = "<p>" + "word " * 1000 + "</p>"
    page = f"<html><body><article>{story}{filler * 200}</article></body></html>"  # 1 M chars
    extracted = extract_article(page, None)
    assert extracted is not None and extracted.text.startswith(PARAGRAPHS[0])
    assert extracted.cut == f"page cut at {defaults.EXTRACT_MAX_TEXT_CHARS:,} characters of text"


def test_the_cut_keeps_the_top_of_the_page_whole() -> None:
    tree = load_html(
        "<html><body><div><p>one</p><p>two <b>2</b> tail</p><p>three</p></div>"
        "<p>four</p> after</body></html>"
    )
    assert cut_to_budget(tree, max_elements=5) == "page cut at 5 elements"
    body = lxml_html.tostring(tree, encoding="unicode")
    assert body == "<html><body><div><p>one</p><p>two </p></div></body></html>"


def test_pruning_unchanged_on_ordinary_pages() -> None:
    """Both fixture layouts: the boxes the pairwise rule removed, and only those."""
    for layout in ("wordpress", "modern"):
        html = OutletServer.article_html("Kech", PARAGRAPHS, layout=layout)
        ours, theirs = load_html(html), load_html(html)
        assert prune_boilerplate(ours) == pairwise_prune(theirs) > 0
        assert lxml_html.tostring(ours) == lxml_html.tostring(theirs)


BOXES = st.sampled_from(["", ' class="share"', ' id="related-posts"', ' class="promo x"'])
boxed = st.recursive(
    st.text(alphabet="ab ", max_size=30),
    lambda inner: st.builds(
        lambda tag, attrs, children: f"<{tag}{attrs}>{''.join(children)}</{tag}>",
        st.sampled_from(["div", "p", "article", "main", "aside", "section", "script"]),
        BOXES,
        st.lists(inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(boxed, max_size=6))
def test_pruning_decides_as_the_pairwise_rule_did(body: list[str]) -> None:
    html = "<html><body>" + "".join(body) + "</body></html>"
    ours, theirs = load_html(html), load_html(html)
    if ours is None:
        return
    assert prune_boilerplate(ours) == pairwise_prune(theirs)
    assert lxml_html.tostring(ours) == lxml_html.tostring(theirs)


def test_the_hostile_pages_benchmark_runs() -> None:
    """CI never times it; a tiny run keeps it from rotting."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.hostile_pages", "--sizes", "0.02", "--repeat", "1"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "share boxes" in done.stdout and "x normal" in done.stdout
