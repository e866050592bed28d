"""Article pages to text: the story stays, the page furniture goes."""

import pytest

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
