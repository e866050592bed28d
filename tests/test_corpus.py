"""The labeled corpus in corpus/: every item well formed, and the frozen split intact.

The split decides which figures count (benchmarks report the test part): these tests make
sure an edit of the corpus cannot quietly move an event across it or break an item.
"""

from __future__ import annotations

import json
from collections import defaultdict

from benchmarks.corpus_check import ITEMS, read
from benchmarks.corpus_split import (
    SPLIT,
    episodes,
    extend,
    load_split,
    part_of,
    recorded_shards,
    unassigned_events,
)


def corpus() -> list[dict]:
    items, problems = read(sorted(ITEMS.glob("*.jsonl")))
    assert problems == []
    return items


def test_every_item_is_well_formed_and_the_corpus_is_as_wide_as_promised():
    items = corpus()
    assert len(items) >= 1000
    assert len({i["country"] for i in items if i["country"]}) >= 40
    assert sum(i["language"] != "en" for i in items) >= 0.15 * len(items)
    languages = {i["language"] for i in items}
    assert {"ur", "hi", "ar", "fa", "fr", "ru", "uk", "tr", "es", "ps"} <= languages


def test_the_frozen_split_is_by_event_and_about_a_third():
    items = corpus()
    test_events = load_split()
    assert test_events <= {i["event_id"] for i in items}  # no test event has vanished
    share = sum(part_of(i, test_events) == "test" for i in items) / len(items)
    assert 0.28 <= share <= 0.40
    for label in ("attack", "coordinated_attack", "internet_shutdown"):
        positives = [i for i in items if i["labels"][label]]
        in_test = sum(part_of(i, test_events) == "test" for i in positives)
        assert 0.2 * len(positives) <= in_test <= 0.45 * len(positives), label


def test_related_events_form_one_episode():
    joined = episodes(
        [
            "evt-br-2015-12-16-whatsapp-block",
            "evt-br-2015-12-17-whatsapp-block-lifted",
            "evt-br-2015-12-30-whatsapp-fine",
            "evt-ar-2015-12-17-whatsapp-outage",
        ]
    )
    assert sorted(joined) == [
        ["evt-ar-2015-12-17-whatsapp-outage"],  # another country
        ["evt-br-2015-12-16-whatsapp-block", "evt-br-2015-12-17-whatsapp-block-lifted"],
        ["evt-br-2015-12-30-whatsapp-fine"],  # too long after
    ]


def test_no_episode_straddles_the_split():
    items = corpus()
    test_events = load_split()
    sides: dict[str, set[str]] = defaultdict(set)
    for episode in episodes(sorted({i["event_id"] for i in items})):
        for event in episode:
            sides[episode[0]].add("test" if event in test_events else "train")
    assert all(len(s) == 1 for s in sides.values())


def test_every_event_was_assigned_before_use():
    """A new event reaches a benchmark only after `corpus_split --extend` put it on a side."""
    record = json.loads(SPLIT.read_text(encoding="utf-8"))
    assert unassigned_events(corpus(), record) == set()
    assert not set(record["test_events"]) & set(record["train_events"])


def item(event_id: str, **labels: bool) -> dict:
    return {"event_id": event_id, "kind": None, "labels": {"attack": False, **labels}}


def test_an_extension_keeps_recorded_events_and_follows_their_episodes():
    record = {
        "test_events": ["evt-in-2020-01-05-kashmir-shutdown"],
        "train_events": ["evt-br-2015-12-16-whatsapp-block"],
    }
    fresh = [
        item(f"evt-ng-2021-0{m}-0{d}-village-raid", attack=True) for m in (1, 3, 5) for d in (1, 5)
    ]
    items = [
        item("evt-in-2020-01-05-kashmir-shutdown"),
        item("evt-in-2020-01-06-kashmir-shutdown-extended"),  # joins the test event's episode
        item("evt-br-2015-12-16-whatsapp-block"),
        item("evt-br-2015-12-17-whatsapp-block-lifted"),  # joins the training event's episode
        *fresh,
    ]
    record["shards"] = ["south-asia.jsonl"]
    extended = extend(items, record, "2026-12-07", ["south-asia.jsonl", "raids.jsonl"])
    assert set(record["test_events"]) <= set(extended["test_events"])
    assert "evt-in-2020-01-06-kashmir-shutdown-extended" in extended["test_events"]
    assert "evt-br-2015-12-17-whatsapp-block-lifted" in extended["train_events"]
    new_test = set(extended["test_events"]) & {i["event_id"] for i in fresh}
    assert 1 <= len(new_test) < len(fresh)  # the free events are split, not sent to one side
    assert unassigned_events(items, extended) == set()
    (log,) = extended["extensions"]
    assert log["to_test"] == 1 + len(new_test) and log["new_events"] == log["items"] == 8
    added = set(extended["test_events"]) - set(record["test_events"])
    assert set(log["test_events_added"]) == added
    assert log["shards_added"] == ["raids.jsonl"]  # so an earlier test part can be rebuilt


def test_every_item_file_is_recorded_by_the_split():
    """`corpus_eval --as-of N` rebuilds an earlier test part from the files it was read from."""
    record = json.loads(SPLIT.read_text(encoding="utf-8"))
    assert {p.name for p in ITEMS.glob("*.jsonl")} == set(recorded_shards(record))
