"""Region names as users write them: countries, provinces, districts, spellings, suggestions."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirewatch.service import wiring


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


def test_district_suggestions(gazetteer):
    assert gazetteer.suggest("North Wazirstan")[0] == "North Waziristan"
    assert gazetteer.suggest("Qila Saifulla")[0] == "Qila Saifullah"
    assert gazetteer.resolve_region("North Wazirstan") is None


@pytest.mark.parametrize(
    ("name", "kind", "admin1"),
    [("Tillabery", "admin1", "Tillaberi"), ("DI Khan", "admin2", "Khyber Pakhtunkhwa")],
)
def test_alternate_spellings_as_regions(gazetteer, name, kind, admin1):
    region = gazetteer.resolve_region(name)
    assert (region.kind, region.admin1) == (kind, admin1)


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
        problem = wiring.RegionChecker().for_place(name)
        assert (problem is not None) == (region.kind == "group"), (name, problem)
