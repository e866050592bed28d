"""Check the labeled corpus in corpus/items: fields, lengths, labels, languages, coverage.

    python -m benchmarks.corpus_check [FILE.jsonl ...]

Prints every problem as FILE:LINE: message and a summary (items, events, countries,
languages, labels, kinds); exits 1 when a problem was found.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ITEMS = ROOT / "corpus" / "items"
FIELDS = {
    "id", "event_id", "outlet", "url", "published", "language", "title", "text",
    "country", "admin1", "places", "labels", "kind",
}  # fmt: skip
LABELS = {"attack", "coordinated_attack", "internet_shutdown"}
KINDS = {
    "restoration", "ruling", "threat", "plan", "denial", "outage", "security_operation",
    "air_strike", "foiled", "statistics", "protest", "opinion",
}  # fmt: skip
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WORDS_MIN, WORDS_MAX = 80, 400
# scripts without spaces between words count characters: about 2.5 per word for these
CHARS_PER_WORD = {"zh": 2.5, "ja": 2.5, "th": 6.0}


def word_count(text: str, language: str) -> int:
    if language in CHARS_PER_WORD:
        return int(len(re.sub(r"\s", "", text)) / CHARS_PER_WORD[language])
    return len(text.split())


def problems_of(item: dict) -> list[str]:
    found = []
    missing, extra = FIELDS - item.keys(), item.keys() - FIELDS
    if missing:
        found.append(f"missing fields: {', '.join(sorted(missing))}")
    if extra:
        found.append(f"unknown fields: {', '.join(sorted(extra))}")
    if missing:
        return found
    if not isinstance(item["event_id"], str) or not item["event_id"]:
        found.append("event_id must be a non-empty string")
    if not DATE.fullmatch(str(item["published"])):
        found.append(f"published must be YYYY-MM-DD, not {item['published']!r}")
    if not re.fullmatch(r"[a-z]{2}", str(item["language"])):
        found.append(f"language must be an ISO 639-1 code, not {item['language']!r}")
    if item["country"] is not None and not re.fullmatch(r"[A-Z]{2}", str(item["country"])):
        found.append(f"country must be ISO 3166-1 alpha-2 or null, not {item['country']!r}")
    words = word_count(str(item["text"]), str(item["language"]))
    if not WORDS_MIN <= words <= WORDS_MAX:
        found.append(f"text has {words} words (want {WORDS_MIN}-{WORDS_MAX})")
    if not str(item["title"]).strip():
        found.append("empty title")
    if not isinstance(item["places"], list):
        found.append("places must be a list")
    labels = item["labels"]
    if not isinstance(labels, dict) or set(labels) != LABELS:
        found.append(f"labels must have exactly {sorted(LABELS)}")
    elif not all(isinstance(v, bool) for v in labels.values()):
        found.append("labels must be true or false")
    elif labels["coordinated_attack"] and not labels["attack"]:
        found.append("coordinated_attack implies attack")
    if item["kind"] is not None and item["kind"] not in KINDS:
        found.append(f"unknown kind {item['kind']!r}")
    if item["url"] is not None:
        found.append("url must be null")
    return found


def read(paths: list[Path]) -> tuple[list[dict], list[str]]:
    items, problems, ids = [], [], set()
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: not JSON: {exc}")
                continue
            problems += [f"{where}: {p}" for p in problems_of(item)]
            if item.get("id") in ids:
                problems.append(f"{where}: duplicate id {item.get('id')!r}")
            ids.add(item.get("id"))
            items.append(item)
    return items, problems


def summary(items: list[dict]) -> str:
    languages = Counter(i.get("language") for i in items)
    english = languages.get("en", 0)
    labels = Counter(k for i in items for k, v in (i.get("labels") or {}).items() if v)
    kinds = Counter(i.get("kind") for i in items if i.get("kind"))
    countries = Counter(i.get("country") for i in items if i.get("country"))
    return "\n".join(
        [
            f"{len(items)} items, {len({i.get('event_id') for i in items})} events, "
            f"{len(countries)} countries, {1 - english / max(1, len(items)):.0%} not in English",
            "languages: " + ", ".join(f"{k} {v}" for k, v in languages.most_common()),
            "labels: " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())),
            "kinds: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()),
            "countries: " + ", ".join(f"{k} {v}" for k, v in countries.most_common()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.files or sorted(ITEMS.glob("*.jsonl"))
    items, problems = read(paths)
    for problem in problems:
        print(problem)
    print(summary(items))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
