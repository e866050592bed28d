"""The gazetteer, built once for the tests of rules/places."""

from __future__ import annotations

import pytest

from wirewatch.rules.places import Gazetteer


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()
