"""Gazetteer: regions, districts, spellings, precise place finding, ambiguity, watch places."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirewatch import cli
from wirewatch.config.loader import ConfigError, load_config_text
from wirewatch.models import ArticleEncoding, PlaceHit
from wirewatch.rules.gazetteer import Gazetteer, Region, WatchPlace
from wirewatch.rules.matcher import Matcher, article_places, no_place_reason, region_evidence
from wirewatch.rules.place_names import fold, read_aliases
from wirewatch.rules.region_groups import read_groups


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


def test_region_contains():
    quetta = PlaceHit("Quetta", "Quetta", "PK", "Balochistan", True)
    karachi = PlaceHit("Karachi", "Karachi", "PK", "Sindh", True)
    assert Region("Balochistan", "admin1", "PK", "Balochistan").contains(quetta)
    assert not Region("Balochistan", "admin1", "PK", "Balochistan").contains(karachi)
    assert Region("Pakistan", "country", "PK").contains(karachi)
    assert Region("Quetta", "place", "PK", "Balochistan").contains(quetta)
    assert not Region("Iran", "country", "IR").contains(quetta)


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


@pytest.mark.parametrize(
    ("name", "district", "admin1"),
    [
        ("Kech", "Kech", "Balochistan"),
        ("North Waziristan", "North Waziristan", "Khyber Pakhtunkhwa"),
        ("north waziristan", "North Waziristan", "Khyber Pakhtunkhwa"),
        ("Bajaur Agency", "Bajaur", "Khyber Pakhtunkhwa"),
        ("Kurram District", "Kurram", "Khyber Pakhtunkhwa"),
        ("Shāngla District", "Shangla", "Khyber Pakhtunkhwa"),
    ],
)
def test_districts_are_regions(gazetteer, name, district, admin1):
    region = gazetteer.resolve_region(name)
    assert (region.name, region.kind, region.country, region.admin1) == (
        district,
        "admin2",
        "PK",
        admin1,
    )


def test_a_watch_on_a_district_contains_its_towns_only(gazetteer):
    kech = gazetteer.resolve_region("Kech")
    turbat = resolved(
        gazetteer.find_places("Gunmen attack bank in Turbat", "Pakistani police said.")
    )
    assert kech.contains(turbat["Turbat"])  # Turbat is Kech's main town
    elsewhere = gazetteer.find_places("Blast in Quetta", "A bomb exploded in Quetta, Pakistan.")
    quetta = resolved(elsewhere)["Quetta"]
    assert quetta.admin1 == "Balochistan" and not kech.contains(quetta)


def test_district_suggestions(gazetteer):
    assert gazetteer.suggest("North Wazirstan")[0] == "North Waziristan"
    assert gazetteer.suggest("Qila Saifulla")[0] == "Qila Saifullah"
    assert gazetteer.resolve_region("North Wazirstan") is None


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


@pytest.mark.parametrize(
    ("name", "kind", "admin1"),
    [("Tillabery", "admin1", "Tillaberi"), ("DI Khan", "admin2", "Khyber Pakhtunkhwa")],
)
def test_alternate_spellings_as_regions(gazetteer, name, kind, admin1):
    region = gazetteer.resolve_region(name)
    assert (region.kind, region.admin1) == (kind, admin1)


def test_every_alias_in_the_data_file_means_a_known_place(gazetteer):
    for alias, country, canonical in read_aliases():
        region = gazetteer.resolve_region(alias)
        assert region is not None and region.country == country, alias
        assert fold(region.name) == fold(canonical) or region.kind == "admin1", alias


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
    check = cli.region_checker()
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


# ---- region groups: several countries or divisions under one name ----------------------------
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


def test_check_rejects_a_watch_place_inside_a_group(gazetteer):
    check = cli.region_checker()
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


@pytest.mark.parametrize(
    ("name", "kind", "country", "canonical"),
    [
        ("Punjab, India", "admin1", "IN", "Punjab"),  # "Punjab" alone is Pakistan's, the larger
        ("Punjab, IN", "admin1", "IN", "Punjab"),
        ("Hyderabad, India", "place", "IN", "Hyderabad"),  # alone: Pakistan's district
        ("Georgia, United States", "admin1", "US", "Georgia"),  # alone: the country
        ("Korea, Republic of", "country", "KR", "South Korea"),  # a comma inside a name
        ("Amhara Region", "admin1", "ET", "Amhara"),
        ("Rakhine State", "admin1", "MM", "Rakhine"),
        ("Helmand Province", "admin1", "AF", "Helmand"),
        ("Donetsk Oblast", "admin1", "UA", "Donetsk"),
        ("Anbar", "admin1", "IQ", "Al Anbar"),
        ("Muthanna", "admin1", "IQ", "Al Muthanna"),
        ("Hasakah", "place", "SY", "Al Hasakah"),  # a spelling of the town: it keeps it
    ],
)
def test_region_names_as_users_write_them(gazetteer, name, kind, country, canonical):
    region = gazetteer.resolve_region(name)
    assert region is not None, name
    assert (region.kind, region.country, region.name) == (kind, country, canonical)


def test_a_qualified_name_must_exist_in_that_country(gazetteer):
    assert gazetteer.resolve_region("Quetta, India") is None
    assert gazetteer.resolve_region("Quetta, Atlantis") is None
    assert gazetteer.resolve_region("Tigre Region") is None  # an ending is for divisions only
    punjab = gazetteer.resolve_region("Punjab")
    assert "India" in gazetteer.elsewhere("Punjab", punjab)
    assert gazetteer.elsewhere("Quetta", gazetteer.resolve_region("Quetta")) == []


def test_a_group_across_countries_is_a_place_only_where_the_article_says_whose(gazetteer):
    title = "Jihadist attacks across the Sahel kill 40"
    text = "Gunmen struck army posts in Mali and Niger on Sunday, officials said."
    hits = gazetteer.find_places(title, text)
    assert hits and hits[0].resolved == "Mali", hits  # not Burkina Faso's Sahel province
    assert "Sahel" not in {h.resolved for h in hits}
    text = "The town of Djibo, in the Sahel region of Burkina Faso, was attacked."
    assert ("Sahel", "BF") in {(h.resolved, h.country) for h in gazetteer.find_places("", text)}


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


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=40)
    | st.builds(
        lambda a, b: f"{a}, {b}",
        st.sampled_from(["Punjab", "Quetta", "", " ", "Sahel Region", "Korea"]),
        st.text(max_size=20) | st.sampled_from(["India", "Pakistan", ",", "Sahel", "Republic of"]),
    )
)
def test_any_region_name_resolves_or_is_unknown(gazetteer, name):
    region = gazetteer.resolve_region(name)  # never raises
    if region is not None:  # (an unknown name's suggestions are tested above; they are slow)
        assert gazetteer.describe(region)
        problem = cli.RegionChecker().for_place(name)
        assert (problem is not None) == (region.kind == "group"), (name, problem)
