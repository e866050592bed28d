"""One spelling per article URL, so that the same page linked twice is recognised as one."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "ocid",
        "cmpid",
        "at_medium",
        "at_campaign",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOST_LABELS = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/:@!$'()*,;-._~"
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ABSOLUTE = re.compile(r"https?://", re.IGNORECASE)


def canonicalize_url(url: str, base: str | None = None) -> str | None:
    """The canonical form of an http(s) URL, or None when it is not one.

    Relative links are resolved against `base`; scheme and host are lowercased,
    default ports, user info, fragments and tracking parameters dropped, the
    remaining query parameters sorted. Never raises.
    """
    try:
        return _canonicalize(url, base)
    except (ValueError, UnicodeError, TypeError):
        return None


def _canonicalize(url: str, base: str | None) -> str | None:
    url = url.strip()
    if not url or _CONTROL.search(url):
        return None
    if base and not _ABSOLUTE.match(url):  # joining changes nothing the rest keeps
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _path(parts.path)
    query = _query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _host(hostname: str | None) -> str | None:
    if not hostname:
        return None
    if ":" in hostname:  # IPv6 literal, brackets already stripped
        return f"[{ipaddress.IPv6Address(hostname.split('%')[0]).compressed}]"
    host = hostname.lower()
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return host if _HOST_LABELS.match(host) else None


def _path(path: str) -> str:
    path = _remove_dot_segments(path or "/")
    path = quote(path, safe=_PATH_SAFE)
    return _ESCAPE.sub(lambda m: m.group(0).upper(), path)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on an absolute path."""
    output: list[str] = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    last = path.rsplit("/", 1)[-1]
    trailing = "/" if last in (".", "..") else ""
    return "/" + "/".join(output) + trailing if output else "/"


def _query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    kept = sorted((k, v) for k, v in pairs if not _is_tracking(k))
    return urlencode(kept, quote_via=quote, safe=_QUERY_SAFE)


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
