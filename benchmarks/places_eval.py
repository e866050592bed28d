"""The gazetteer alone (no model) against a labeled corpus's places, countries and provinces.

    python -m benchmarks.places_eval [--corpus DIR] [--verbose]
    python -m benchmarks.places_eval --corpus-dir corpus/items --by-language [--part train]

Per item, ``Gazetteer.find_places(title, text)`` against the item's labels:
- ``places``: the share of the labeled place names found (as written or as resolved), and
  the share of found places that are not among the labels;
- ``country``: whether the first deciding place (``region_gate.deciding_places``: the lead's
  places in the article's main country) is in the labeled country, the place the region
  gate decides by;
- ``admin1``: whether a deciding place lies in the labeled first-level division.
The corpus is ``../shared/corpus`` by default; a user's checkout does not have it.

``--by-language`` (for the repository corpus, ``--corpus-dir corpus/items``) prints one row
per language and part of the split (``corpus/split.json``; ``--part`` picks one: thresholds
are chosen on ``train``, the frozen ``test`` part is only reported): of the items with a
labeled country, how many have a place in it (``country found``) and how many the region
gate puts there (``gate country``: the first deciding place); of those it puts anywhere,
how many in another country (``gate wrong``: the gate's precision); the same for the
labeled admin1 (names compared without their kind: "Tatarstan Republic" is Tatarstan); and
of the places found, the share that are none of the item's labeled places (each label read
by the gazetteer itself, so an inflected "Махачкале" matches the label "Махачкала").
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.corpus_eval import DEFAULT_CORPUS, load_items
from benchmarks.corpus_split import load_split, part_of
from wirewatch.models import PlaceHit
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.places.names import fold
from wirewatch.rules.region_gate import deciding_places, describe_place

_COLUMNS = (
    "country found",
    "gate country",
    "gate wrong",
    "admin1 found",
    "gate admin1",
    "unlabeled",
)
_PARTS = ("train", "test", "-")  # "-": an item without an event id, so of neither part


def evaluate(items: list[dict[str, Any]], gazetteer: Gazetteer, verbose: bool) -> dict[str, int]:
    counts = dict.fromkeys(
        (
            "labeled",
            "found",
            "hits",
            "unlabeled",
            "countries",
            "country_ok",
            "admin1s",
            "admin1_ok",
        ),
        0,
    )
    for item in items:
        hits = gazetteer.find_places(item["title"], item["text"])
        labeled = {fold(p) for p in item.get("places") or []}
        named = {fold(h.name) for h in hits} | {fold(h.resolved) for h in hits}
        counts["labeled"] += len(labeled)
        counts["found"] += len(labeled & named)
        counts["hits"] += len(hits)
        counts["unlabeled"] += sum(
            1 for h in hits if not {fold(h.name), fold(h.resolved)} & labeled
        )
        deciding = deciding_places(hits)
        if item.get("country"):
            counts["countries"] += 1
            right = bool(deciding) and deciding[0].country == item["country"]
            counts["country_ok"] += right
            if verbose and not right:
                print(f"  country {item['country']}: {item['id']} {_found(deciding)}")
        if item.get("admin1"):
            counts["admin1s"] += 1
            right = any(fold(p.admin1 or "") in _admin1s(gazetteer, item) for p in deciding)
            counts["admin1_ok"] += right
            if verbose and not right:
                print(f"  admin1 {item['admin1']}: {item['id']} {_found(deciding)}")
    return counts


def _admin1s(gazetteer: Gazetteer, item: dict[str, Any]) -> set[str]:
    """The labeled admin1, folded, as written and as the gazetteer names it."""
    province = gazetteer.resolve_region(f"{item['admin1']}, {item.get('country', '')}")
    return {fold(item["admin1"])} | ({fold(province.name)} if province else set())


def _found(places: list) -> str:
    return "; ".join(describe_place(p) for p in places[:4]) or "(none)"


def by_language(
    items: list[dict[str, Any]], gazetteer: Gazetteer, verbose: bool
) -> dict[tuple[str, str], dict[str, int]]:
    """(language, part) -> counts of the per-language report (see the module docstring)."""
    test_events = load_split()
    table: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        part = part_of(item, test_events) if item.get("event_id") else "-"
        hits = gazetteer.find_places(item["title"], item["text"])
        deciding = deciding_places(hits)
        for language in (item.get("language") or "?", "all"):
            row = table[(language, part)]
            row["items"] += 1
            _score(row, item, gazetteer, hits, deciding)
        wrong = not deciding or deciding[0].country != item.get("country")
        if verbose and item.get("country") and wrong:
            print(f"  {part} {item['language']} {item['country']}/{item.get('admin1')}: "
                  f"{item['id']} {_found(deciding)}")  # fmt: skip
    return table


def _score(
    row: dict[str, int],
    item: dict[str, Any],
    gazetteer: Gazetteer,
    hits: list[PlaceHit],
    deciding: list[PlaceHit],
) -> None:
    country = item.get("country")
    if country:
        row["countries"] += 1
        row["country_found"] += any(h.country == country for h in hits)
        row["country_ok"] += bool(deciding) and deciding[0].country == country
        if deciding:
            row["decided"] += 1
            row["country_wrong"] += deciding[0].country != country
    if item.get("admin1") and country:
        wanted = _divisions(gazetteer, item)
        row["admin1s"] += 1
        row["admin1_found"] += any(h.country == country and _division(h, wanted) for h in hits)
        row["admin1_ok"] += any(_division(p, wanted) for p in deciding)
    labels = set()
    for name in item.get("places") or []:
        labels |= {(h.resolved, h.country) for h in gazetteer.find_places(name, "")}
        labels.add((fold(name), None))
    row["hits"] += len(hits)
    row["unlabeled"] += sum(
        1
        for h in hits
        if (h.resolved, h.country) not in labels and (fold(h.name), None) not in labels
    )


_KINDS = frozenset(
    {"oblast", "kray", "krai", "respublika", "republic", "avtonomnyy", "autonomous", "okrug",
     "city", "division", "province", "state", "region", "governorate", "capital", "territory"}
)  # fmt: skip


def _plain(name: str) -> str:
    """A division's name without its kind and transliteration habits: the labels and the
    data name some divisions differently ("Tatarstan" and "Tatarstan Republic", "Kyiv" and
    "Kyiv City", "Dhaka" and "Dhaka Division", "Ingushetia" and "Ingushetiya Republic")."""
    words = re.split(r"[\s,.'’-]+", fold(name).replace("saint", "st"))
    key = " ".join(w for w in words if w and w not in _KINDS)
    return re.sub(r"(?:iya|ia|ya)$", "", key)


def _divisions(gazetteer: Gazetteer, item: dict[str, Any]) -> set[str]:
    """The labeled admin1 as the per-language report compares it (``_plain``): as written,
    as the gazetteer resolves it, and the admin1 of what it resolves to (Damascus -> Dimashq)."""
    region = gazetteer.resolve_region(f"{item['admin1']}, {item.get('country', '')}")
    names = {item["admin1"]} | ({region.name, region.admin1 or ""} if region else set())
    return {_plain(n) for n in names if n}


def _division(hit: PlaceHit, wanted: set[str]) -> bool:
    return bool(hit.admin1) and _plain(hit.admin1 or "") in wanted


def _share(part: int, whole: int) -> str:
    return f"{part:3}/{whole:<3} {part / whole:4.0%}" if whole else f"{'-':>13}"


def print_by_language(table: dict[tuple[str, str], dict[str, int]]) -> None:
    languages = sorted({lang for lang, _ in table}, key=lambda x: (x == "all", x))
    header = "  ".join(f"{c:>13}" for c in _COLUMNS)
    print(f"{'lang':4} {'part':5} {'items':>5}  {header}")
    for language in languages:
        for part in _PARTS:
            r = table.get((language, part))
            if not r:
                continue
            cells = (
                _share(r["country_found"], r["countries"]),
                _share(r["country_ok"], r["countries"]),
                _share(r["country_wrong"], r["decided"]),
                _share(r["admin1_found"], r["admin1s"]),
                _share(r["admin1_ok"], r["admin1s"]),
                _share(r["unlabeled"], r["hits"]),
            )
            print(f"{language:4} {part:5} {r['items']:5}  " + "  ".join(f"{c:>13}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--corpus-dir", type=Path, help="same as --corpus (corpus/items)")
    parser.add_argument("--by-language", action="store_true", help="per language and part")
    parser.add_argument(
        "--part", choices=["train", "test", "all"], default="all", help="with --by-language"
    )
    parser.add_argument("--verbose", action="store_true", help="list the items it gets wrong")
    args = parser.parse_args(argv)
    folder = args.corpus_dir or args.corpus
    items = load_items(folder)
    if not items:
        parser.error(f"no *.jsonl items under {folder}")
    if args.by_language:
        if args.part != "all":
            test_events = load_split()
            items = [i for i in items if part_of(i, test_events) == args.part]
        print_by_language(by_language(items, Gazetteer.load(), args.verbose))
        return 0
    c = evaluate(items, Gazetteer.load(), args.verbose)
    print(f"{len(items)} items")
    rows = [
        ("labeled places found", c["found"], c["labeled"]),
        ("places found, not labeled", c["unlabeled"], c["hits"]),
        ("deciding country right", c["country_ok"], c["countries"]),
        ("deciding admin1 right", c["admin1_ok"], c["admin1s"]),
    ]
    for label, part, whole in rows:
        print(f"{label:27} {part}/{whole} ({part / max(whole, 1):.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
