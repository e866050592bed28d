"""Canonical article URLs: one spelling per page, so a page linked twice is one article."""

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from wirewatch.monitor.urls import canonicalize_url


def test_tracking_parameters_and_fragment_are_dropped() -> None:
    url = "https://www.dawn.com/news/123?utm_source=twitter&utm_medium=social&fbclid=X#comments"
    assert canonicalize_url(url) == "https://www.dawn.com/news/123"


def test_the_same_page_spelled_differently_is_one_url() -> None:
    spellings = [
        "HTTPS://WWW.Dawn.COM:443/news/123?b=2&a=1",
        "https://www.dawn.com/news/./123?a=1&b=2&utm_campaign=x",
        "https://user:pw@www.dawn.com/news/x/../123?a=1&b=2#top",
        "  https://www.dawn.com/news/123?a=1&gclid=abc&b=2  ",
    ]
    assert {canonicalize_url(s) for s in spellings} == {"https://www.dawn.com/news/123?a=1&b=2"}


def test_path_case_and_meaningful_query_are_kept() -> None:
    assert canonicalize_url("http://ex.org/News/Item?id=7") == "http://ex.org/News/Item?id=7"
    assert canonicalize_url("http://ex.org:8080/a") == "http://ex.org:8080/a"


def test_relative_links_resolve_against_the_feed() -> None:
    base = "https://example.org/feeds/home.xml"
    assert canonicalize_url("/news/1", base) == "https://example.org/news/1"
    assert canonicalize_url("story.html", base) == "https://example.org/feeds/story.html"
    assert canonicalize_url("//cdn.example.org/x", base) == "https://cdn.example.org/x"


def test_non_http_links_are_rejected() -> None:
    for bad in ["javascript:alert(1)", "mailto:a@b.c", "ftp://x.org/f", "", "   ", "http://"]:
        assert canonicalize_url(bad) is None, bad


def test_international_names_and_spaces() -> None:
    assert canonicalize_url("https://Bücher.example/a b") == "https://xn--bcher-kva.example/a%20b"


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=60)))
def test_never_raises_and_is_idempotent_on_any_string(url: str, base: str | None) -> None:
    first = canonicalize_url(url, base)
    if first is not None:
        assert first.startswith(("http://", "https://"))
        assert canonicalize_url(first) == first


_hosts = st.sampled_from(
    ["Example.org", "news.example.COM", "127.0.0.1", "[::1]", "xn--bcher-kva.ch"]
)
_paths = st.text(alphabet="abc/.%-_~?&=+#:@ éü", max_size=40)


@given(st.sampled_from(["http", "HTTPS"]), _hosts, _paths)
def test_idempotent_on_url_shaped_strings(scheme: str, host: str, tail: str) -> None:
    first = canonicalize_url(f"{scheme}://{host}/{tail}")
    assert first is not None
    assert canonicalize_url(first) == first


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_values = st.text(alphabet="abcXYZ019-._~ %&=+", max_size=8)


@given(
    st.lists(st.tuples(_names, _values), max_size=4),
    st.lists(st.tuples(st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid"]), _values)),
    st.text(alphabet="abc#/?=", max_size=10),
    st.randoms(use_true_random=False),
)
def test_tracking_parameters_and_fragments_never_change_the_identity(
    params: list, tracking: list, fragment: str, rng
) -> None:
    kept = [(k, v) for k, v in params if not k.startswith(("utm_", "pk_", "mtm_"))]
    mixed = kept + tracking
    rng.shuffle(mixed)

    def url(pairs: list) -> str:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)
        return f"https://news.example.org/a/b?{query}" if query else "https://news.example.org/a/b"

    plain = canonicalize_url(url(kept))
    noisy = canonicalize_url(url(mixed) + "#" + fragment)
    assert plain == noisy
    assert "#" not in noisy and "utm_" not in noisy and "fbclid" not in noisy
