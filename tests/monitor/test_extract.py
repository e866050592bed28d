"""Article pages to text: the story stays, the page furniture goes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.outlets import BOILERPLATE_MARKERS, OutletServer
from wirewatch.monitor.extract import extract_article

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
