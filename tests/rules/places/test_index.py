"""The gazetteer's index: built once, and every alias of the data file means a known place."""

from __future__ import annotations

from wirewatch.rules.places import Gazetteer
from wirewatch.rules.places.names import fold
from wirewatch.rules.places.sources import read_aliases


def test_load_is_cached():
    assert Gazetteer.load() is Gazetteer.load()


def test_every_alias_in_the_data_file_means_a_known_place(gazetteer):
    for alias, country, canonical in read_aliases():
        region = gazetteer.resolve_region(alias)
        assert region is not None and region.country == country, alias
        assert fold(region.name) == fold(canonical) or region.kind == "admin1", alias
