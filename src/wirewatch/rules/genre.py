"""Opinion pieces: editorials, op-eds, columns and letters comment on events; they report none.

Newsrooms mark them in the headline ("Editorial: …", "Letter: …") or in the address
(``/opinion/``, ``/editorials/``). Such an article never opens a story unless the watch sets
``include_opinion: true``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from wirewatch.rules.settings import SHIPPED, Rules

_LABEL = (
    r"(?:editorial|opinion|op-?ed|comment|commentary|column|viewpoint|letters?(?: to the editor)?)"
)
_TITLE = re.compile(rf"^\s*{_LABEL}\s*[:|—–-]", re.IGNORECASE)
_PATH = re.compile(
    r"/(?:opinions?|editorials?|op-?eds?|columns?|columnists?|letters?|commentary)(?:/|$)",
    re.IGNORECASE,
)


def is_opinion(title: str, url: str | None, rules: Rules = SHIPPED) -> bool:
    """True when the headline or the address labels the article as opinion."""
    if rules.opinion_labels and _TITLE.match(title):
        return True
    if not url:
        return False
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return bool(rules.opinion_paths and _PATH.search(path))
