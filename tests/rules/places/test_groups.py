"""Region groups: several countries or divisions under one name (the Sahel, Darfur)."""

from __future__ import annotations

import pytest

from wirewatch.rules.matcher import region_evidence
from wirewatch.rules.places.groups import read_groups


@pytest.mark.parametrize(
    ("region", "text", "inside"),
    [
        ("Sahel", "Gunmen killed 20 soldiers near Gao in northern Mali on Sunday.", True),
        ("Sahel", "Jihadists attacked a convoy near Djibo, Burkina Faso.", True),
        ("Sahel", "Protesters marched through Dakar, Senegal, on Sunday.", False),
        ("Darfur", "Shelling hit El Fasher, Sudan, overnight.", True),
        ("Darfur", "Shelling hit Khartoum, Sudan, overnight.", False),
        ("Donbass", "Missiles struck Kramatorsk in eastern Ukraine.", True),
        ("Donbas", "Drones struck Lviv in western Ukraine.", False),
        ("Middle East", "A car bomb exploded in Baghdad, Iraq.", True),
        ("Middle East", "A car bomb exploded in Kabul, Afghanistan.", False),
        ("Iraqi Kurdistan", "A drone hit Erbil airport in Iraq.", True),
        ("Kurdistan Region", "A drone hit Basra airport in Iraq.", False),
        ("Africa", "Police fired tear gas at protesters in Nairobi, Kenya.", True),
        ("Africa", "Police fired tear gas at protesters in Lima, Peru.", False),
        ("Caucasus", "Gunmen attacked a police post in Dagestan, Russia.", True),
        ("Caucasus", "Gunmen attacked a police post near Moscow, Russia.", False),
    ],
)
def test_a_region_group_holds_the_places_of_its_members(gazetteer, region, text, inside):
    group = gazetteer.resolve_region(region)
    assert group is not None and group.kind == "group"
    names, places = region_evidence([group], gazetteer.find_places(text.split(".")[0], text))
    assert (names == [group.name]) is inside, (names, places)


def test_a_group_name_wins_over_a_town_or_province_of_the_same_name(gazetteer):
    sahel, middle_east, sinai = (
        gazetteer.resolve_region(n) for n in ("Sahel", "Middle East", "Sinai")
    )
    assert (sahel.kind, len(sahel.parts)) == ("group", 5)  # not Burkina Faso's province
    assert {p.country for p in middle_east.parts} >= {"IQ", "SY", "YE"}  # not a place in Maryland
    assert {(p.country, p.name) for p in sinai.parts} == {
        ("EG", "North Sinai"),
        ("EG", "South Sinai"),
    }
    province = gazetteer.resolve_region("Sahel Region")
    assert (province.kind, province.country) == ("admin1", "BF")


def test_every_built_in_group_is_known_by_each_of_its_names(gazetteer):
    for spec in read_groups():
        for name in spec.names:
            region = gazetteer.resolve_region(name)
            assert region is not None and region.name == spec.name, name
            assert len(region.parts) == len(spec.members), name


def test_groups_are_suggested_and_described(gazetteer):
    assert "Darfur" in gazetteer.suggest("Darfurr")
    assert gazetteer.describe(gazetteer.resolve_region("Sahel")) == (
        "group of 5: Burkina Faso, Chad, Mali, Mauritania, Niger"
    )
    assert gazetteer.describe(gazetteer.resolve_region("Kosovo")) == "country"
    assert gazetteer.describe(gazetteer.resolve_region("Turbat")) == "town in Balochistan, Pakistan"


@pytest.mark.parametrize(
    ("text", "region", "country"),
    [
        ("Fighting spread across Darfur as the army retreated.", "Darfur", "Sudan"),
        ("Shelling in Donbas killed three civilians on Monday.", "Donbas", "Ukraine"),
        ("Militants attacked a checkpoint in northern Sinai.", "Sinai", "Egypt"),
        ("A drone strike in Waziristan killed four men.", "Waziristan", "Khyber Pakhtunkhwa"),
    ],
)
def test_a_group_inside_one_country_is_a_place_in_articles_too(gazetteer, text, region, country):
    hits = gazetteer.find_places(text.split(" ")[0], text)
    for name in (region, country):
        assert region_evidence([gazetteer.resolve_region(name)], hits)[0] == [name], (name, hits)


def test_a_group_across_countries_is_a_place_only_where_the_article_says_whose(gazetteer):
    title = "Jihadist attacks across the Sahel kill 40"
    text = "Gunmen struck army posts in Mali and Niger on Sunday, officials said."
    hits = gazetteer.find_places(title, text)
    assert hits and hits[0].resolved == "Mali", hits  # not Burkina Faso's Sahel province
    assert "Sahel" not in {h.resolved for h in hits}
    text = "The town of Djibo, in the Sahel region of Burkina Faso, was attacked."
    assert ("Sahel", "BF") in {(h.resolved, h.country) for h in gazetteer.find_places("", text)}
