"""Gazetteer: region names, place finding precision, disambiguation, suggestions."""

from __future__ import annotations

import pytest

from wirewatch.models import PlaceHit
from wirewatch.rules.gazetteer import Gazetteer, Region


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()


def resolved(hits: list[PlaceHit]) -> dict[str, PlaceHit]:
    return {h.resolved: h for h in hits}


@pytest.mark.parametrize(
    ("name", "kind", "country", "admin1"),
    [
        ("Balochistan", "admin1", "PK", "Balochistan"),
        ("Baluchistan", "admin1", "PK", "Balochistan"),
        ("balochistan", "admin1", "PK", "Balochistan"),
        ("Khyber Pakhtunkhwa", "admin1", "PK", "Khyber Pakhtunkhwa"),
        ("KP", "admin1", "PK", "Khyber Pakhtunkhwa"),
        ("Pakistan", "country", "PK", None),
        ("PK", "country", "PK", None),
        ("pk", "country", "PK", None),
        ("Iran", "country", "IR", None),
        ("Sistan and Baluchestan", "admin1", "IR", "Sistan and Baluchestan"),
        ("Sīstān va Balūchestān", "admin1", "IR", "Sistan and Baluchestan"),
        ("Turbat", "place", "PK", "Balochistan"),
        ("Zahedan", "place", "IR", "Sistan and Baluchestan"),
    ],
)
def test_resolve_region(gazetteer, name, kind, country, admin1):
    region = gazetteer.resolve_region(name)
    assert region is not None
    assert (region.kind, region.country, region.admin1) == (kind, country, admin1)


def test_unknown_region_and_suggestions(gazetteer):
    assert gazetteer.resolve_region("Balochstan") is None
    assert gazetteer.resolve_region("Atlantis Prime") is None
    assert "Balochistan" in gazetteer.suggest("Balochstan")
    assert "Khyber Pakhtunkhwa" in gazetteer.suggest("Khyber Pakhtoonkhwa")


def test_load_is_cached():
    assert Gazetteer.load() is Gazetteer.load()


def test_balochistan_towns(gazetteer):
    balochistan = gazetteer.resolve_region("Balochistan")
    hits = gazetteer.find_places(
        "Attacks across the province",
        "Fighters struck in Turbat, Nushki and Panjgur on Saturday, Pakistani officials said.",
    )
    found = resolved(hits)
    for town in ("Turbat", "Nushki", "Panjgur"):
        assert found[town].admin1 == "Balochistan" and found[town].country == "PK"
        assert balochistan.contains(found[town])


def test_common_words_are_not_places(gazetteer):
    hits = gazetteer.find_places(
        "Police Say Reading Of The Charges Delayed",
        "Police said in March that Reading the report took time. Mobile phones were seized. "
        "Reading, March and Police are all town names somewhere.",
    )
    assert not {"Reading", "March", "Police", "Mobile"} & set(resolved(hits))


def test_lowercase_and_partial_words_are_not_places(gazetteer):
    hits = gazetteer.find_places("quetta news", "the quetta bus was late; Quettaish words.")
    assert hits == []


def test_hyderabad_follows_the_country_of_the_article(gazetteer):
    india = resolved(
        gazetteer.find_places(
            "Protest in Hyderabad", "Police in Telangana said the rally in Hyderabad, India, ended."
        )
    )
    pakistan = resolved(
        gazetteer.find_places(
            "Protest in Hyderabad", "Police in Sindh said the rally in Hyderabad ended peacefully."
        )
    )
    assert (india["Hyderabad"].country, india["Hyderabad"].admin1) == ("IN", "Telangana")
    assert (pakistan["Hyderabad"].country, pakistan["Hyderabad"].admin1) == ("PK", "Sindh")


def test_sistan_and_baluchestan_is_not_balochistan(gazetteer):
    balochistan = gazetteer.resolve_region("Balochistan")
    hits = gazetteer.find_places(
        "Gunmen attack police post in Zahedan",
        "ZAHEDAN - Gunmen attacked a police post in Zahedan, capital of Sistan and Baluchestan "
        "province in southeastern Iran.",
    )
    found = resolved(hits)
    assert found["Zahedan"].admin1 == "Sistan and Baluchestan"
    assert found["Sistan and Baluchestan"].country == "IR"
    assert not any(balochistan.contains(h) for h in hits)
    assert all(h.admin1 != "Balochistan" for h in hits)


def test_lead_dateline_and_order(gazetteer):
    text = "\n\n".join(
        [
            "QUETTA - Gunmen struck a checkpoint on Friday, officials in Balochistan said.",
            "The attack followed others this year.",
            "Far away, officials in Lahore and Karachi also raised alert levels.",
        ]
    )
    hits = gazetteer.find_places("Checkpoint attacked", text)
    found = resolved(hits)
    assert found["Quetta"].in_lead and found["Quetta"].name == "QUETTA"
    assert not found["Lahore"].in_lead and not found["Karachi"].in_lead
    assert hits[0].country == "PK"


def test_main_country_places_come_first(gazetteer):
    hits = gazetteer.find_places(
        "Blast in Zahedan",
        "A blast hit Zahedan in Iran's Sistan and Baluchestan province, near Pakistan.",
    )
    assert hits[0].country == "IR"


def test_region_contains():
    quetta = PlaceHit("Quetta", "Quetta", "PK", "Balochistan", True)
    karachi = PlaceHit("Karachi", "Karachi", "PK", "Sindh", True)
    assert Region("Balochistan", "admin1", "PK", "Balochistan").contains(quetta)
    assert not Region("Balochistan", "admin1", "PK", "Balochistan").contains(karachi)
    assert Region("Pakistan", "country", "PK").contains(karachi)
    assert Region("Quetta", "place", "PK", "Balochistan").contains(quetta)
    assert not Region("Iran", "country", "IR").contains(quetta)
