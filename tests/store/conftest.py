"""The store's tests run on both engines: `target` is what `Store(target)` opens."""

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    """A SQLite file path, or the URL of a fresh database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "w.db")
    return request.getfixturevalue("pg_database")
