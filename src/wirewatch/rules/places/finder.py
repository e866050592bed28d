"""Places an article names, in its title and text (``find_places``): precise rather than greedy.

A mention is the longest known name of capitalised tokens; the article's own context (the
countries and provinces it names, demonyms) decides what an ambiguous one refers to, and a
name that is also an English word, another language's name or part of a person's name
counts only where that context makes it sure. See docs/matching.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from wirewatch import defaults
from wirewatch.models import PlaceHit
from wirewatch.rules.places.index import Entry, PlaceIndex
from wirewatch.rules.places.names import DEMONYMS, STOPWORDS, fold, is_word
from wirewatch.rules.places.regions import KIND_RANK
from wirewatch.rules.places.script_finder import find as find_in_scripts

# A lower-case word right after a name that says it is a district: "Kurram district".
ADMIN2_CUES = frozenset({"district", "agency", "tehsil", "division", "county", "tribal"})
_TOKEN = re.compile(r"[^\W\d_][\w'’.&-]*|\d+")
_CONNECTORS = frozenset(
    {"and", "of", "de", "del", "la", "le", "al", "el", "e", "va", "&", "es", "da", "do", "du", "di"}
)  # inside a name: "Dar es Salaam", "Mocimboa da Praia"
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_MAX_NAME_TOKENS = 5


@dataclass
class _Mention:
    written: str
    start: int  # character offset in the combined title + text
    candidates: list[Entry]
    word: bool = False  # made of English words only: "Tank", "Gulf", "Middle East"
    weak: bool = False  # a word, another language's name, or part of a person's: "Mir Ali"
    joined: str = ""  # part of a longer capitalised name: "before" ("Mir Ali"), "after"
    cue: bool = False  # followed by "district", "agency", ...
    unsure: frozenset[Entry] = frozenset()  # taken only in a country the article names


def find_places(index: PlaceIndex, title: str, text: str) -> list[PlaceHit]:
    """Places named in an article, resolved with the article's own country context.

    One hit per distinct resolved place, most salient first: places of the article's main
    country (the one its mentions point at most; title 3, lead 2, body 1 per mention),
    then the rest. ``in_lead`` when a mention is in the title, the dateline or the
    first ``LEAD_PARAGRAPHS`` paragraphs.
    """
    combined = f"{title}\n\n{text}"
    title_end, lead_end = len(title), len(title) + 2 + _lead_length(text)
    mentions = _mentions(index, combined)
    if not combined.isascii():
        mentions = _with_script_mentions(index, combined, mentions)
    context, provinces = _context(combined, mentions), _named_admin1s(mentions)
    hits: dict[Entry, PlaceHit] = {}
    weights: dict[Entry, int] = defaultdict(int)
    for mention in mentions:
        entry = _choose(mention, context, provinces)
        if entry is None:
            continue
        in_lead = mention.start < lead_end
        weights[entry] += 3 if mention.start < title_end else 2 if in_lead else 1
        old = hits.get(entry)
        if old is None or (in_lead and not old.in_lead):
            written = old.name if old else mention.written
            hits[entry] = PlaceHit(
                written, entry.name, entry.country, entry.admin1, in_lead, _local(index, entry)
            )
    by_country: dict[str, int] = defaultdict(int)
    for entry, weight in weights.items():
        by_country[entry.country] += weight
    first = {entry: i for i, entry in enumerate(hits)}
    order = sorted(hits, key=lambda e: (-by_country[e.country], -weights[e], first[e]))
    return [hits[e] for e in order]


def _local(index: PlaceIndex, entry: Entry) -> bool:
    """A town or district, or a province named like the city in it ("Kabul", "Islamabad"):
    in news the name stands for the city."""
    if entry.kind in ("place", "admin2"):
        return True
    return entry.kind == "admin1" and any(
        e.kind == "place" and e.country == entry.country and e.admin1 == entry.admin1
        for e in index.by_name.get(fold(entry.name), ())
    )


def _with_script_mentions(index: PlaceIndex, text: str, mentions: list[_Mention]) -> list[_Mention]:
    """``mentions`` with the names written in other scripts (``script_finder.py``), in the
    order of the text; a Latin-script text has none, and its mentions are left as they are."""
    found = find_in_scripts(index.scripts, text)
    if not found:
        return mentions
    extra = [_Mention(m.written, m.start, m.candidates, unsure=m.unsure) for m in found]
    return sorted(mentions + extra, key=lambda m: m.start)


def _lookup(index: PlaceIndex, span: str) -> tuple[list[Entry], bool]:
    """Entries for a name as written, and whether they come from another name of a town
    ("Bombay", "Quds"; never looked up in capitals, where they are acronyms: "ISNA")."""
    key = fold(span)
    found = index.by_name.get(key) or index.by_name.get(key.rstrip("."))
    if found or span.isupper():
        return found or [], False
    found = index.alternates.get(key) or index.alternates.get(key.rstrip("."))
    return found or [], True


def _mentions(index: PlaceIndex, text: str) -> list[_Mention]:
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    lowered = {t.lower() for t, _ in tokens if t[:1].islower()}
    mentions: list[_Mention] = []
    i = 0
    while i < len(tokens):
        found = _longest_name(index, tokens, i, text, lowered)
        if found is None:
            if "-" in tokens[i][0]:  # "Peshawar-bound", "Quetta-Chaman"
                mentions.extend(_hyphenated(index, tokens[i], text, lowered))
            i += 1
            continue
        n, candidates, alternate = found
        mention = _mention(index, tokens, i, n, text, candidates)
        if n == 1:  # "Mir Ali", "Ali Amin Gandapur"
            mention.joined = _joined(tokens, i, text, lowered)
        mention.weak = mention.word or alternate or bool(mention.joined)
        mentions.append(mention)
        i += n
    return mentions


def _mention(
    index: PlaceIndex,
    tokens: list[tuple[str, int]],
    i: int,
    n: int,
    text: str,
    candidates: list[Entry],
) -> _Mention:
    start, end = tokens[i][1], tokens[i + n - 1][1] + len(tokens[i + n - 1][0])
    written = _strip_possessive(text[start:end]).rstrip(".")
    mention = _Mention(written, start, candidates)
    names = [w for w in re.split(r"[\s-]+", fold(written)) if w not in _CONNECTORS]
    mention.word = fold(written) in index.broad or all(  # "Middle East", "Tank"; not "DI Khan"
        len(w) > 2 and (is_word(w, index.words) or w in STOPWORDS) for w in names
    )
    mention.weak = mention.word
    if (mention.word and _sentence_start(text, start)) or fold(written) in DEMONYMS:
        # "Along the road ...": a capital that grammar asks for; "Canadian": a demonym
        mention.candidates = [e for e in candidates if e.kind in ("country", "admin1")]
    following = tokens[i + n] if i + n < len(tokens) else None
    if following and following[0] in ADMIN2_CUES and "\n" not in text[end : following[1]]:
        admin2 = [e for e in mention.candidates if e.kind == "admin2"]
        mention.candidates, mention.cue = admin2 or mention.candidates, bool(admin2)
    return mention


def _hyphenated(
    index: PlaceIndex, token: tuple[str, int], text: str, lowered: set[str]
) -> list[_Mention]:
    """Places inside a hyphenated word that is no name as a whole: 'Quetta-Chaman'."""
    parts = [(m.group(), token[1] + m.start()) for m in re.finditer(r"[^\W\d_]+", token[0])]
    mentions = []
    for j in range(len(parts)):
        found = _longest_name(index, parts[j : j + 1], 0, text, lowered)
        if found is not None:
            mention = _mention(index, parts, j, 1, text, found[1])
            mention.weak = mention.weak or found[2]
            mentions.append(mention)
    return mentions


def _longest_name(
    index: PlaceIndex, tokens: list[tuple[str, int]], i: int, text: str, lowered: set[str]
) -> tuple[int, list[Entry], bool] | None:
    if not tokens[i][0][:1].isupper():
        return None
    for n in range(min(_MAX_NAME_TOKENS, len(tokens) - i), 0, -1):
        last = tokens[i + n - 1][0]
        if not _is_name_token(last) or (n == 1 and not _is_name_token(tokens[i][0])):
            continue
        span = _strip_possessive(text[tokens[i][1] : tokens[i + n - 1][1] + len(last)])
        if "\n" in span:
            continue
        words = [t for t, _ in tokens[i + 1 : i + n]]
        if any(w.lower() not in _CONNECTORS and not w[:1].isupper() for w in words):
            continue
        candidates, alternate = _lookup(index, span)
        if not candidates:
            continue
        if n == 1 and _is_common_word(last, lowered):
            return None
        return n, candidates, alternate
    return None


def _joined(tokens: list[tuple[str, int]], i: int, text: str, lowered: set[str]) -> str:
    """Whether the one-token name i is part of a longer capitalised name: 'before' when a
    name word precedes it ('Mir Ali', 'Mr Farah'), 'after' when one follows ('Ali Amin'),
    else ''.

    A neighbour counts when only a space separates them and it is capitalised, not in
    capitals, not a word the article also writes in lower case ("In Quetta"), not a
    stopword ("Police", "North", "Minister"), connector or demonym ("Pakistani Punjab"),
    and not possessive ("Pakistan's Kurram"). Never in a Title Case line: a headline
    capitalises every word.
    """
    for j in (i - 1, i + 1):
        if not 0 <= j < len(tokens):
            continue
        (first, at), (_, second_at) = sorted((tokens[j], tokens[i]), key=lambda t: t[1])
        neighbour = tokens[j][0]
        if text[at + len(first) : second_at] != " " or not neighbour[:1].isupper():
            continue
        word = fold(neighbour.rstrip("."))
        if neighbour.isupper() or word in STOPWORDS or word in _CONNECTORS or word in DEMONYMS:
            continue
        if word in lowered or (j < i and re.search(r"['’]s?$", neighbour)):
            continue
        if not _title_case(text, tokens[i][1]):
            return "before" if j < i else "after"
    return ""


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" ")
    return not before or before[-1] in "\n.!?:;\"“‘'([–—-"


def _title_case(text: str, at: int) -> bool:
    """Whether the line around ``at`` capitalises most of its longer words (a headline)."""
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    words = re.findall(r"[^\W\d_]{4,}", text[start : end if end >= 0 else None])
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _context(text: str, mentions: list[_Mention]) -> set[str]:
    """Countries the article itself establishes: named countries, demonyms, sure places."""
    countries: set[str] = set()
    for word in re.findall(r"[A-Z][a-z]+", text):
        code = DEMONYMS.get(word.lower().removesuffix("s"))
        if code:
            countries.add(code)
    for mention in mentions:
        sure = {e.country for e in mention.candidates if _sure(e, mention)}
        if len(sure) == 1 and len({e.country for e in mention.candidates}) == 1:
            countries |= sure
    return countries


def _named_admin1s(mentions: list[_Mention]) -> set[tuple[str, str]]:
    """(country, admin1) of the provinces the article names unambiguously: "Chhattisgarh"."""
    named = set()
    for mention in mentions:
        kinds = {(e.kind, e.country, e.name) for e in mention.candidates}
        if len(kinds) == 1:
            kind, country, name = kinds.pop()
            if kind == "admin1" and _sure(mention.candidates[0], mention):
                named.add((country, name))
    return named


def _sure(entry: Entry, mention: _Mention) -> bool:
    """Whether ``entry`` may be taken for ``mention`` without the article naming its country."""
    if entry in mention.unsure:  # "امن" (Emmen, NL) in Urdu: only with its country
        return False
    if entry.kind == "country":
        return True
    if entry.kind == "admin1":
        # "Gulf" (Papua New Guinea) and "Mr Farah" need the article's country; not
        # "Balochistan Liberation Army"
        return not mention.word and mention.joined != "before"
    if mention.weak:  # "Tank", "Hit", "Bombay", "Mir Ali": only a world city is sure
        world_city = defaults.GAZETTEER_COMMON_WORD_MIN_POPULATION
        return entry.kind == "place" and entry.population >= world_city
    if entry.kind == "admin2":  # "Bajaur", "North Waziristan" ("Johnson County" only in full)
        return True
    return entry.population >= defaults.GAZETTEER_MIN_POPULATION


def _choose(
    mention: _Mention, context: set[str], provinces: set[tuple[str, str]] = frozenset()
) -> Entry | None:
    """The entry a mention refers to, or None when too unsure (an unknown small town).

    Among places of one name, one in a province the article names wins ("Chhattisgarh's
    Bijapur" is not Karnataka's); else one in a country it names; else the most populous.
    """
    candidates = mention.candidates
    if mention.weak:  # a small town named like a word or a person never counts: "Chamber"
        smallest = (
            defaults.GAZETTEER_JOINED_MIN_POPULATION
            if mention.joined
            else defaults.GAZETTEER_MIN_POPULATION
        )
        candidates = [e for e in candidates if e.kind != "place" or e.population >= smallest]
    in_province = [e for e in candidates if (e.country, e.admin1) in provinces]
    in_context = [e for e in candidates if e.country in context]
    pool = in_province or in_context or [e for e in candidates if _sure(e, mention)]
    if not pool:
        return None
    return max(pool, key=lambda e: (e.population, KIND_RANK[e.kind]))


def _is_name_token(token: str) -> bool:
    token = _strip_possessive(token)  # "BLA's" is an acronym too
    if not token[:1].isupper():
        return False
    return not (token.isupper() and len(token.rstrip(".")) <= 3 and "." not in token)


def _is_common_word(token: str, lowered: set[str]) -> bool:
    word = token.rstrip(".'’").lower()
    return word in STOPWORDS or word in lowered


def _strip_possessive(span: str) -> str:
    return re.sub(r"['’]s?$", "", span)


def _lead_length(text: str) -> int:
    """Characters of the text that belong to the lead (first LEAD_PARAGRAPHS paragraphs)."""
    count, position = 0, 0
    for match in _PARAGRAPH.finditer(text):
        if text[position : match.start()].strip():
            count += 1
            if count >= defaults.LEAD_PARAGRAPHS:
                return match.start()
        position = match.end()
    return len(text)
