"""Backtest labels: which corpus items a `--labels WATCH=LABEL@REGION` spec expects to fire."""

from __future__ import annotations

import io

import pytest

from wirewatch.backtest import evaluate_labels, parse_label_spec, print_label_reports
from wirewatch.rules.places import Gazetteer


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()


def item(country: str, admin1: str | None = None, attack: bool = True) -> dict:
    return {"id": "x", "labels": {"attack": attack}, "country": country, "admin1": admin1}


@pytest.mark.parametrize(
    ("region", "where", "expected"),
    [
        ("Sahel", ("ML", "Gao"), True),  # a group: any of its countries
        ("Sahel", ("BF", "Sahel"), True),
        ("Sahel", ("SN", "Dakar"), False),
        ("Pakistan", ("PK", "Sindh"), True),  # a country by name, not only by code
        ("PK", ("PK", None), True),
        ("Balochistan", ("PK", "Baluchistan"), True),  # the item's spelling of the province
        ("Baluchistan", ("PK", "Balochistan"), True),  # ... or the spec's
        ("Balochistan", ("IR", "Sistan and Baluchestan"), False),
        ("Darfur", ("SD", "Northern Darfur"), True),
        ("Darfur", ("SD", "Khartoum"), False),
        ("Punjab, India", ("IN", "Punjab"), True),
        ("Punjab, India", ("PK", "Punjab"), False),
    ],
)
def test_a_label_region_means_what_it_means_in_regions(gazetteer, region, where, expected):
    spec = parse_label_spec(f"w=attack@{region}", gazetteer)
    assert spec.expects(item(*where)) is expected
    assert not spec.expects(item(*where, attack=False))


def test_several_label_regions_mean_any_of_them(gazetteer):
    spec = parse_label_spec("w=attack@Mali|Niger|Burkina Faso", gazetteer)
    assert spec.expects(item("ML", "Mopti")) and spec.expects(item("BF", "Sahel"))
    assert spec.expects(item("NE", "Tillabéri"))
    assert not spec.expects(item("TD", "Lac")) and not spec.expects(item("NG", "Borno"))
    with pytest.raises(ValueError, match="unknown region 'Nigr'"):
        parse_label_spec("w=attack@Mali|Nigr", gazetteer)


def test_an_unknown_label_region_is_an_error_with_suggestions(gazetteer):
    with pytest.raises(ValueError, match=r"unknown region 'Balochstan' \(did you mean Balochistan"):
        parse_label_spec("w=attack@Balochstan", gazetteer)


def test_without_a_gazetteer_the_region_is_compared_by_name():
    spec = parse_label_spec("w=attack@Balochistan")
    assert spec.expects(item("PK", "Balochistan")) and spec.expects(item("PK", "Baluchistan"))
    assert not parse_label_spec("w=attack@Sahel").expects(item("ML", "Gao"))
    assert parse_label_spec("w=attack").expects(item("ML"))


def test_a_miss_in_another_language_says_which(gazetteer):
    spec = parse_label_spec("w=attack@Sahel", gazetteer)
    french = {**item("BF", "Sahel"), "id": "fr-1", "title": "Attaque à Djibo", "language": "fr"}
    english = {**item("ML", "Gao"), "id": "en-1", "title": "Attack in Gao", "language": "en"}
    report = evaluate_labels([spec], [french, english], outcomes={})
    out = io.StringIO()
    print_label_reports(report, [french, english], out)
    assert "missed fr-1 (0.00) [fr] Attaque à Djibo" in out.getvalue()
    assert "missed en-1 (0.00) Attack in Gao" in out.getvalue()
