"""The gazetteer alone (no model) against a labeled corpus's places, countries and provinces.

    python -m benchmarks.places_eval [--corpus DIR]

Per item, ``Gazetteer.find_places(title, text)`` against the item's labels:
- ``places``: the share of the labeled place names found (as written or as resolved), and
  the share of found places that are not among the labels;
- ``country``: whether the first deciding place (``matcher.deciding_places``: the lead's
  places in the article's main country) is in the labeled country, the place the region
  gate decides by;
- ``admin1``: whether a deciding place lies in the labeled first-level division.
The corpus is ``../shared/corpus`` by default; a user's checkout does not have it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchmarks.corpus_eval import DEFAULT_CORPUS, load_items
from wirewatch.rules.matcher import deciding_places, describe_place
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.places.names import fold


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
            province = gazetteer.resolve_region(f"{item['admin1']}, {item.get('country', '')}")
            wanted = {fold(item["admin1"])} | ({fold(province.name)} if province else set())
            right = any(fold(p.admin1 or "") in wanted for p in deciding)
            counts["admin1_ok"] += right
            if verbose and not right:
                print(f"  admin1 {item['admin1']}: {item['id']} {_found(deciding)}")
    return counts


def _found(places: list) -> str:
    return "; ".join(describe_place(p) for p in places[:4]) or "(none)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--verbose", action="store_true", help="list the items it gets wrong")
    args = parser.parse_args(argv)
    items = load_items(args.corpus)
    if not items:
        parser.error(f"no *.jsonl items under {args.corpus}")
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
