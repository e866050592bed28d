"""The text of feed entries: the quick reading of plain markup is html.parser's."""

from hypothesis import given
from hypothesis import strategies as st

from tests.monitor.feeds.samples import FUZZ
from wirewatch.monitor.feeds.entries import _parsed_text, simple_text, text_of

_TAGS = "<p> </p> <b> </b> <br/> <a|href='x>y'> </a> <DIV|class=a> </div> <li> <script>"
_tags = st.sampled_from([t.replace("|", " ") for t in _TAGS.split()] + ["<!-- c -->", "<"])


@FUZZ
@given(st.lists(st.one_of(_tags, st.text(alphabet="ab &;#x12<>\"'é\n", max_size=8)), max_size=12))
def test_the_quick_html_reading_is_html_parsers(parts: list[str]) -> None:
    markup = "".join(parts)
    quick = simple_text(markup)
    if quick is not None:
        assert text_of(quick.replace("&", "&amp;").replace("<", "&lt;")) == text_of(
            _parsed_text(markup).replace("&", "&amp;").replace("<", "&lt;")
        )
