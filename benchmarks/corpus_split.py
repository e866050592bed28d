"""Split the labeled corpus by event into a training part and a frozen test part, once.

    python -m benchmarks.corpus_split            # writes corpus/split.json if it does not exist
    python -m benchmarks.corpus_split --check    # says how the recorded split divides the items
    python -m benchmarks.corpus_split --extend   # assigns the events added since, by the same rule

Every report of one event lands on the same side, and so does every event of one episode:
events in one country within `EPISODE_DAYS` of each other whose ids share a distinctive
word (a shutdown and its lifting, an ultimatum and the ban, a bombing and the arrests),
so that no test item is a near-copy of a training one. Episodes are grouped by what they
report (coordinated attack, other attack, shutdown, each near-miss kind, the rest) and,
within a group, taken for the test part in the order of a hash of their first event id
until the group's test items reach `TEST_SHARE`: the choice depends on nothing a detector
could be tuned to.
The recorded split is frozen: a new report of a recorded event goes to that event's side
(so a new report of a test event never leaks into training). Events new to the corpus are
assigned once, before anything is trained or measured on them, by `--extend`: the same rule
applied to the new events alone (an episode that joins a recorded event follows its side),
so the test part keeps its share as the corpus grows (a larger share of the new events
when the whole part would fall below `TEST_FLOOR`); split.json logs each extension.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from benchmarks.corpus_check import ITEMS, read

ROOT = Path(__file__).resolve().parents[1]
SPLIT = ROOT / "corpus" / "split.json"
TEST_SHARE = 0.32
TEST_FLOOR = 0.30  # an extension takes more of the new events when the whole part would fall below
SALT = "wirewatch-corpus-split-v1"
EPISODE_DAYS = 3
# words of event ids too common to tie two events together
COMMON_WORDS = frozenset(
    [
        "attack",
        "attacks",
        "in",
        "on",
        "of",
        "the",
        "and",
        "a",
        "strike",
        "strikes",
        "bombing",
        "bombings",
        "internet",
        "shutdown",
        "mobile",
        "protest",
        "protests",
        "killed",
        "city",
        "data",
        "services",
        "service",
        "ban",
        "block",
    ]
)


RULE = " ".join(__doc__.split("\n\n")[2:4]).replace("\n", " ")


def event_group(items: list[dict]) -> str:
    """What an event's reports are about, for stratifying the split."""
    labels = {k for i in items for k, v in i["labels"].items() if v}
    if "coordinated_attack" in labels:
        return "coordinated_attack"
    if "attack" in labels:
        return "attack"
    if "internet_shutdown" in labels:
        return "internet_shutdown"
    kinds = sorted({i["kind"] for i in items if i["kind"]})
    return f"kind:{kinds[0]}" if kinds else "other"


def rank(event_id: str) -> str:
    return hashlib.sha256(f"{SALT}:{event_id}".encode()).hexdigest()


def event_parts(event_id: str) -> tuple[str, date, set[str]] | None:
    """(country, date, distinctive words) of `evt-<cc>-<yyyy>-<mm>-<dd>-<slug>`, if dated."""
    parts = event_id.split("-")
    try:
        when = date(int(parts[2]), int(parts[3]), int(parts[4]))
    except (IndexError, ValueError):
        return None
    return parts[1], when, set(parts[5:]) - COMMON_WORDS


def episodes(event_ids: list[str]) -> list[list[str]]:
    """Events joined into episodes (union-find over related pairs), each sorted."""
    parent = {e: e for e in event_ids}

    def root(e: str) -> str:
        while parent[e] != e:
            parent[e] = parent[parent[e]]
            e = parent[e]
        return e

    dated = [(e, parts) for e in sorted(event_ids) if (parts := event_parts(e))]
    for index, (a, (country_a, day_a, words_a)) in enumerate(dated):
        for b, (country_b, day_b, words_b) in dated[index + 1 :]:
            near = abs((day_a - day_b).days) <= EPISODE_DAYS
            if country_a == country_b and near and words_a & words_b:
                parent[root(b)] = root(a)
    joined: dict[str, list[str]] = defaultdict(list)
    for e in event_ids:
        joined[root(e)].append(e)
    return [sorted(members) for members in joined.values()]


def choose_test_events(items: list[dict], share: float = TEST_SHARE) -> list[str]:
    by_event: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_event[item["event_id"]].append(item)
    groups: dict[str, list[list[str]]] = defaultdict(list)
    for episode in episodes(sorted(by_event)):
        reports = [item for event in episode for item in by_event[event]]
        groups[event_group(reports)].append(episode)
    chosen = []
    for group in groups.values():
        total = sum(len(by_event[e]) for episode in group for e in episode)
        taken = 0
        for episode in sorted(group, key=lambda members: rank(members[0])):
            if taken >= share * total:
                break
            chosen.extend(episode)
            taken += sum(len(by_event[e]) for e in episode)
    return sorted(chosen)


def load_split() -> set[str]:
    return set(json.loads(SPLIT.read_text(encoding="utf-8"))["test_events"])


def unassigned_events(items: list[dict], record: dict) -> set[str]:
    """Events of the corpus that the recorded split has not assigned to either part."""
    assigned = set(record["test_events"]) | set(record["train_events"])
    return {i["event_id"] for i in items} - assigned


def extend(items: list[dict], record: dict, when: str, shards: Sequence[str] = ()) -> dict:
    """The record with the corpus's new events assigned: an episode that holds a recorded
    event follows its side, the other new episodes are split by the rule of
    `choose_test_events` among themselves. `shards` (the item files now) lets the log say
    which files are new, so that `test_part_as_of` can rebuild an earlier test part."""
    new = unassigned_events(items, record)
    test, train = set(record["test_events"]), set(record["train_events"])
    free = []
    for episode in episodes(sorted({i["event_id"] for i in items})):
        fresh = [e for e in episode if e in new]
        if not fresh:
            continue
        if test & set(episode):
            test.update(fresh)
        elif train & set(episode):
            train.update(fresh)
        else:
            free.extend(fresh)
    free_items = [i for i in items if i["event_id"] in free]
    in_test = sum(i["event_id"] in test for i in items)
    needed = (TEST_FLOOR * len(items) - in_test) / max(len(free_items), 1)
    chosen = set(choose_test_events(free_items, min(1.0, max(TEST_SHARE, needed))))
    test |= chosen
    train |= set(free) - chosen
    added = sorted(test - set(record["test_events"]))
    log = {"date": when, "new_events": len(new), "items": sum(i["event_id"] in new for i in items),
           "to_test": len(added), "test_events_added": added,
           "shards_added": sorted(set(shards) - set(recorded_shards(record)))}  # fmt: skip
    return {**record, "test_events": sorted(test), "train_events": sorted(train),
            "extensions": [*record.get("extensions", []), log]}  # fmt: skip


def recorded_shards(record: dict) -> list[str]:
    """The item files the split has seen: the first ones and those each extension added."""
    logs = record.get("extensions", [])
    return [*record.get("shards", []), *(s for log in logs for s in log.get("shards_added", []))]


def test_part_as_of(extensions: int) -> tuple[set[str], set[str]]:
    """The test part as it was after the first `extensions` extensions (0: as first chosen):
    its events, and the item files it was read from (a later file's new reports of an
    earlier test event were not part of it)."""
    record = json.loads(SPLIT.read_text(encoding="utf-8"))
    later = record.get("extensions", [])[extensions:]
    added = {e for log in later for e in log["test_events_added"]}
    newer = {s for log in later for s in log.get("shards_added", [])}
    return set(record["test_events"]) - added, set(recorded_shards(record)) - newer


def part_of(item: dict, test_events: set[str]) -> str:
    return "test" if item["event_id"] in test_events else "train"


def describe(items: list[dict], test_events: set[str]) -> str:
    lines = []
    for part in ("train", "test"):
        chosen = [i for i in items if part_of(i, test_events) == part]
        labels = Counter(k for i in chosen for k, v in i["labels"].items() if v)
        other = sum(i["language"] != "en" for i in chosen)
        lines.append(
            f"{part:5}: {len(chosen)} items, {len({i['event_id'] for i in chosen})} events, "
            f"{other} not in English; " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items()))
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="describe the recorded split")
    parser.add_argument("--extend", action="store_true", help="assign events new to the corpus")
    args = parser.parse_args(argv)
    items, problems = read(sorted(ITEMS.glob("*.jsonl")))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.extend:
        record = json.loads(SPLIT.read_text(encoding="utf-8"))
        shards = [p.name for p in sorted(ITEMS.glob("*.jsonl"))]
        record = extend(items, record, date.today().isoformat(), shards)
        record["rule"] = RULE
        SPLIT.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"extension: {record['extensions'][-1]}")
    elif not args.check:
        if SPLIT.exists():
            print(f"{SPLIT} exists: the split is frozen (--check describes it)", file=sys.stderr)
            return 1
        test_events = choose_test_events(items)
        train_events = sorted({i["event_id"] for i in items} - set(test_events))
        record = {"rule": RULE, "salt": SALT,
                  "test_share": TEST_SHARE, "test_events": test_events,
                  "train_events": train_events}  # fmt: skip
        SPLIT.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(describe(items, load_split()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
