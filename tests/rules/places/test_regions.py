"""Regions and a watch's own places (`places:`), also inside a group."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from wirewatch.config.loader import ConfigError, load_config_text
from wirewatch.models import ArticleEncoding, PlaceHit
from wirewatch.rules.matcher import Matcher, article_places, no_place_reason, region_evidence
from wirewatch.rules.places import Region, WatchPlace
from wirewatch.service import wiring


def test_region_contains():
    quetta = PlaceHit("Quetta", "Quetta", "PK", "Balochistan", True)
    karachi = PlaceHit("Karachi", "Karachi", "PK", "Sindh", True)
    assert Region("Balochistan", "admin1", "PK", "Balochistan").contains(quetta)
    assert not Region("Balochistan", "admin1", "PK", "Balochistan").contains(karachi)
    assert Region("Pakistan", "country", "PK").contains(karachi)
    assert Region("Quetta", "place", "PK", "Balochistan").contains(quetta)
    assert not Region("Iran", "country", "IR").contains(quetta)


# ---- a watch's own places (`places:`) ---------------------------------------------------------
REGION_WATCH = """\
outlets:
  - name: dawn
    feed: https://www.dawn.com/feeds/home
notifiers:
  - name: soc
    type: terminal
watches:
  - name: kp-attacks
    topic: attacks
    notify: [soc]
    regions: [Khyber Pakhtunkhwa]
    places:
"""


def watch_config(places: str, regions: str = "[Khyber Pakhtunkhwa]") -> str:
    return REGION_WATCH.replace("[Khyber Pakhtunkhwa]", regions) + textwrap.indent(places, " " * 6)


def encoding(lead: str, body: str = "", places: list[PlaceHit] | None = None) -> ArticleEncoding:
    return ArticleEncoding([lead, body], np.zeros((2, 4), dtype=np.float32), places or [])


def test_watch_places_are_validated_with_the_regions(gazetteer):
    config = load_config_text(watch_config("- Tirah\n- {name: Sandiaye, region: Bajaur}\n"))
    places = config.watches[0].places
    assert [(p.name, p.region) for p in places] == [
        ("Tirah", "Khyber Pakhtunkhwa"),
        ("Sandiaye", "Bajaur"),
    ]
    check = wiring.region_checker()
    with pytest.raises(ConfigError) as caught:
        load_config_text(watch_config("- {name: Sandiaye, region: Bajuar}\n"), region_check=check)
    assert "places[0].region: unknown region 'Bajuar' (did you mean 'Bajaur'" in str(caught.value)
    with pytest.raises(ConfigError, match="say which region 'Tirah' is in"):
        load_config_text(watch_config("- Tirah\n", regions="[Khyber Pakhtunkhwa, Balochistan]"))
    with pytest.raises(ConfigError, match="places"):
        load_config_text(watch_config("- {name: Tirah, town: x}\n"))


def test_a_watch_place_in_the_lead_puts_the_article_in_the_region(gazetteer):
    watch = SimpleNamespace(
        regions=["Khyber Pakhtunkhwa"], places=[SimpleNamespace(name="Tirah", region=None)]
    )
    prepared = SimpleNamespace(places=Matcher([], None, gazetteer)._watch_places(watch))  # type: ignore[arg-type]
    regions = [gazetteer.resolve_region("Khyber Pakhtunkhwa")]
    lead = "Militants attacked a checkpoint in the TIRAH valley on Sunday."
    inside = region_evidence(regions, article_places(prepared, encoding(lead)))
    assert inside == (["Khyber Pakhtunkhwa"], ["Tirah"])
    plain = encoding(lead)
    assert region_evidence(regions, plain.places) == ([], [])  # without the watch's place
    assert "found: none" in no_place_reason(regions, plain.places)


def test_a_watch_place_in_the_body_counts_only_without_a_lead_place(gazetteer):
    prepared = SimpleNamespace(
        places=[WatchPlace("Tirah", gazetteer.resolve_region("Khyber Pakhtunkhwa"))]
    )
    regions = [gazetteer.resolve_region("Khyber Pakhtunkhwa")]
    karachi = PlaceHit("Karachi", "Karachi", "PK", "Sindh", True)
    named_lead = encoding("Strike in Karachi", "Tirah was calm.", [karachi])
    assert region_evidence(regions, article_places(prepared, named_lead)) == ([], [])
    no_lead_place = encoding("Soldiers killed", "The fighting was in Tirah.")
    assert region_evidence(regions, article_places(prepared, no_lead_place))[1] == ["Tirah"]


def test_a_watch_place_in_a_district_counts_for_that_district(gazetteer):
    bajaur = gazetteer.resolve_region("Bajaur")
    place = WatchPlace("Sandiaye", bajaur)
    hits = article_places(SimpleNamespace(places=[place]), encoding("Raid in Sandiaye"))
    assert region_evidence([bajaur], hits) == (["Bajaur"], ["Bajaur"])
    assert gazetteer.resolve_region("Khyber Pakhtunkhwa").contains(hits[0])


def test_check_rejects_a_watch_place_inside_a_group(gazetteer):
    check = wiring.region_checker()
    with pytest.raises(ConfigError) as caught:
        load_config_text(watch_config("- Menaka\n", regions="[Sahel]"), region_check=check)
    assert "places[0]: Sahel is a group of regions" in str(caught.value)
    explicit = "- {name: Menaka, region: Sahel}\n- {name: Kidal, region: Mali}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(watch_config(explicit, regions="[Sahel, Mali]"), region_check=check)
    assert "places[0].region: Sahel is a group of regions" in str(caught.value)
    assert "places[1]" not in str(caught.value)
    fine = watch_config("- Menaka\n", regions="[Mali]")
    assert load_config_text(fine, region_check=check).watches[0].places[0].region == "Mali"


def test_a_watch_place_cannot_be_inside_a_group(gazetteer):
    watch = SimpleNamespace(regions=["Sahel"], places=[SimpleNamespace(name="Menaka", region=None)])
    with pytest.raises(ValueError, match="Sahel is a group of regions"):
        Matcher([], None, gazetteer)._watch_places(watch)  # type: ignore[arg-type]
