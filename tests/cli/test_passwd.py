"""`wirewatch hash-password`: a hash the config accepts and the dashboard verifies."""

from __future__ import annotations

from argon2 import PasswordHasher

from tests.cli.test_cli import wirewatch
from wirewatch.config.loader import load_config_text


def test_the_printed_hash_verifies_and_loads_as_a_users_hash():
    done = wirewatch("hash-password", stdin="s3cret phrase\n")
    assert done.returncode == 0, done.stderr
    digest = done.stdout.strip()
    assert "s3cret" not in done.stdout
    assert PasswordHasher().verify(digest, "s3cret phrase")
    user = f"{{name: ada, password_hash: '{digest}'}}"
    config = load_config_text(f"server:\n  listen: 0.0.0.0:9464\n  users:\n    - {user}\n")
    assert config.server.users[0].password_hash == digest


def test_an_empty_password_is_refused():
    done = wirewatch("hash-password", stdin="\n")
    assert done.returncode == 1
    assert "empty" in done.stderr
