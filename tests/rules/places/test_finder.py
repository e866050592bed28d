"""Places an article names: precise place finding, districts, spellings, ambiguity, words."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirewatch.models import PlaceHit


def resolved(hits: list[PlaceHit]) -> dict[str, PlaceHit]:
    return {h.resolved: h for h in hits}


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


def test_towns_and_districts_are_local_provinces_are_not(gazetteer):
    """A city named like its province ("Islamabad", "Kabul") is where it happened: local."""
    hits = resolved(
        gazetteer.find_places(
            "Mobile data cut in Islamabad and Quetta",
            "Officials in Balochistan and Pakistan's Punjab said Kech district was also hit.",
        )
    )
    assert hits["Islamabad"].local and hits["Quetta"].local and hits["Kech"].local
    assert not hits["Balochistan"].local and not hits["Punjab"].local
    assert not hits["Pakistan"].local
    kabul = resolved(gazetteer.find_places("Blast in Kabul", "Police in Afghanistan said."))
    assert kabul["Kabul"].local


def test_main_country_places_come_first(gazetteer):
    hits = gazetteer.find_places(
        "Blast in Zahedan",
        "A blast hit Zahedan in Iran's Sistan and Baluchestan province, near Pakistan.",
    )
    assert hits[0].country == "IR"


# ---- second-level divisions (districts, agencies) ---------------------------------------------
@pytest.mark.parametrize(
    ("text", "district", "admin1"),
    [
        (
            "A roadside bomb in Bajaur killed two Pakistani soldiers.",
            "Bajaur",
            "Khyber Pakhtunkhwa",
        ),
        (
            "Clashes in Kurram left 12 dead, Khyber Pakhtunkhwa police said.",
            "Kurram",
            "Khyber Pakhtunkhwa",
        ),
        (
            "Militants attacked a post in North Waziristan.",
            "North Waziristan",
            "Khyber Pakhtunkhwa",
        ),
        (
            "Floods cut the road to Shangla, Pakistani officials said.",
            "Shangla",
            "Khyber Pakhtunkhwa",
        ),
        ("Gunmen stopped buses in Musakhel in Pakistan.", "Musa Khel", "Balochistan"),
        (
            "A blast in Qilla Saifullah wounded four, Pakistani police said.",
            "Qila Saifullah",
            "Balochistan",
        ),
        ("Gunmen attacked a bank in Kech, Balochistan.", "Kech", "Balochistan"),
        ("Rockets hit a camp in Kachhi district.", "Kachhi", "Balochistan"),
    ],
)
def test_districts_resolve_to_their_province(gazetteer, text, district, admin1):
    hit = resolved(gazetteer.find_places("", text))[district]
    assert (hit.country, hit.admin1) == ("PK", admin1)
    assert gazetteer.resolve_region(admin1).contains(hit)


def test_a_district_named_alone_or_with_its_ending(gazetteer):
    # A distinctive district name needs no country; "district" after a name says what it is.
    for text in ("Police said a blast in Bajaur killed two.", "Fighting in Kurram district."):
        hits = gazetteer.find_places("", text)
        assert [(h.country, h.admin1) for h in hits] == [("PK", "Khyber Pakhtunkhwa")]


def test_a_watch_on_a_district_contains_its_towns_only(gazetteer):
    kech = gazetteer.resolve_region("Kech")
    turbat = resolved(
        gazetteer.find_places("Gunmen attack bank in Turbat", "Pakistani police said.")
    )
    assert kech.contains(turbat["Turbat"])  # Turbat is Kech's main town
    elsewhere = gazetteer.find_places("Blast in Quetta", "A bomb exploded in Quetta, Pakistan.")
    quetta = resolved(elsewhere)["Quetta"]
    assert quetta.admin1 == "Balochistan" and not kech.contains(quetta)


# ---- alternate spellings -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "name", "country", "admin1"),
    [
        ("A bomb went off in D.I. Khan on Monday.", "Dera Ismail Khan", "PK", "Khyber Pakhtunkhwa"),
        ("A bomb went off in DI Khan on Monday.", "Dera Ismail Khan", "PK", "Khyber Pakhtunkhwa"),
        ("Shops shut in Noshki, Pakistani officials said.", "Nushki", "PK", "Balochistan"),
        ("A train was stopped in Jaffarabad, Pakistan.", "Jafarabad", "PK", "Balochistan"),
        ("Soldiers were killed near Tillabery, Niger.", "Tillaberi", "NE", "Tillaberi"),
        ("The attack in Sheikhupura, Pakistan, was the third.", "Shekhupura", "PK", "Punjab"),
    ],
)
def test_alternate_spellings(gazetteer, text, name, country, admin1):
    hit = resolved(gazetteer.find_places("", text))[name]
    assert (hit.country, hit.admin1) == (country, admin1)


def test_acronyms_are_not_another_language_s_town_names(gazetteer):
    assert gazetteer.find_places("", "ISNA and IRNA, Iran's news agencies, said.") == [
        PlaceHit("Iran", "Iran", "IR", None, True)
    ]


def test_hyphenated_words_keep_their_places(gazetteer):
    hits = resolved(gazetteer.find_places("", "The Quetta-bound train left Jacobabad in Pakistan."))
    assert hits["Quetta"].admin1 == "Balochistan" and hits["Jacobabad"].admin1 == "Sindh"


# ---- ambiguity ---------------------------------------------------------------------------------
def test_a_district_of_two_countries_follows_the_article(gazetteer):
    bangladesh = resolved(
        gazetteer.find_places(
            "Floods in Gopalganj", "Water rose in Gopalganj, Bangladeshi officials said."
        )
    )["Gopalganj"]
    india = resolved(
        gazetteer.find_places(
            "Floods in Gopalganj", "Water rose in Gopalganj, officials in Bihar said."
        )
    )["Gopalganj"]
    assert bangladesh.country == "BD" and (india.country, india.admin1) == ("IN", "Bihar")


def test_iranian_districts_stay_in_iran(gazetteer):
    balochistan = gazetteer.resolve_region("Balochistan")
    hits = gazetteer.find_places(
        "Clash in Saravan",
        "Border guards clashed with gunmen near Saravan in Iran's Sistan-Baluchestan province.",
    )
    assert hits and all(h.country == "IR" for h in hits)
    assert not any(balochistan.contains(h) for h in hits)


@pytest.mark.parametrize(
    ("text", "place", "admin1"),
    [
        ("Maoist rebels killed ten police in Chhattisgarh's Bijapur.", "Bijapur", "Chhattisgarh"),
        ("Protesters gathered in Bijapur, Karnataka, on Monday.", "Bijapur", "Karnataka"),
        ("Tanzania restricted X in Dar es Salaam.", "Dar es Salaam", "Dar es Salaam"),
        (
            "Insurgents attacked Mocimboa da Praia in Mozambique.",
            "Mocimboa da Praia",
            "Cabo Delgado",
        ),
    ],
)
def test_a_place_is_taken_in_the_province_the_article_names(gazetteer, text, place, admin1):
    hits = {(h.resolved, h.admin1) for h in gazetteer.find_places("", text)}
    assert (place, admin1) in hits, hits


# ---- words and people that are not places ------------------------------------------------------
# Capitalised English words that are also names of towns or districts somewhere.
TOWN_WORDS = [
    "Tank",
    "Hit",
    "Man",
    "Same",
    "Come",
    "Along",
    "Buy",
    "Date",
    "Goes",
    "Save",
    "Store",
    "Normal",
    "Bar",
    "Gay",
    "Male",
    "Coast",
    "Mission",
    "Pop",
    "Cat",
    "Bay",
    "Bear",
    "Drama",
    "Holiday",
    "Liberal",
    "Salt",
    "Bell",
    "Manage",
    "Bush",
    "Marks",
    "Gap",
    "Superior",
    "Alliance",
    "Crystal",
    "Pace",
    "Pen",
    "Hook",
    "Boom",
    "Fleet",
    "Punch",
    "Gulf",
    "Oral",
    "Springs",
    "Dig",
    "Imperial",
    "Coin",
    "Jam",
    "Lens",
    "Horn",
    "Lakes",
    "Pearl",
    "Peer",
    "Bend",
    "Retreat",
    "Humble",
    "Hurricane",
    "Chamber",
    "Swat",
    "Hub",
    "Islands",
    "Union",
    "Bishop",
    "Many",
    "Gateway",
    "Cricket",
    "Force",
    "Van",
    "Eastern",
    "Republic",
    "Opportunity",
    "Rivers",
    "Metro",
    "Olympic",
    "Reading",
    "March",
    "Police",
    "Mobile",
    "Split",
    "Nice",
    "Bath",
]
SENTENCES = (
    "{} would matter more this year, the report said.",
    "Officials said {} was discussed at length.",
    "{}: what we know so far",
    "A new {} Is Coming",
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(st.sampled_from(TOWN_WORDS), min_size=1, max_size=3),
    form=st.sampled_from(SENTENCES),
)
def test_capitalised_words_are_not_places(gazetteer, words, form):
    text = form.format(" and ".join(words))
    assert gazetteer.find_places(text.split(":")[0], text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Chief Minister Ali Amin Gandapur said the talks went well.",
        "Mr Farah said the vote would go ahead.",
        "Johnson said the plan was fine.",
        "The Canadian team arrived on Friday.",
    ],
)
def test_people_and_demonyms_are_not_places(gazetteer, text):
    assert gazetteer.find_places("", text) == []


def test_a_place_inside_an_organisation_name_still_counts_in_its_country(gazetteer):
    hits = resolved(
        gazetteer.find_places("", "Ships waited at Gwadar Port, Pakistani officials said.")
    )
    assert hits["Gwadar"].admin1 == "Balochistan"
