"""`server`: a dashboard other machines can reach must have users; loopback may be open."""

from __future__ import annotations

import pytest

from wirewatch.config.loader import ConfigError, load_config_text
from wirewatch.config.types import is_loopback
from wirewatch.dashboard.access import hash_password

HASH = hash_password("pw")
ADA = f"{{name: ada, password_hash: '{HASH}', role: admin}}"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("localhost", True),
     ("LOCALHOST", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False),
     ("example.org", False), ("localhost.example.org", False)],
)  # fmt: skip
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "server",
    [
        "server: {}",
        "server: {listen: 9464}",
        "server: {listen: '[::1]:9464'}",
        "server: {listen: ':9464', dashboard: false}",
        f"server: {{listen: '0.0.0.0:9464', users: [{ADA}]}}",
    ],
)
def test_these_servers_are_valid(server):
    config = load_config_text(server)
    assert config.server is not None


@pytest.mark.parametrize("listen", [":9464", "0.0.0.0:9464", "192.168.1.4:80", "[::]:9464"])
def test_a_dashboard_reachable_from_the_network_without_users_is_refused(listen):
    with pytest.raises(ConfigError) as caught:
        load_config_text(f"server:\n  listen: '{listen}'\n")
    [problem] = caught.value.problems
    assert problem.field == "server.listen"
    assert "needs `users`" in problem.message


def test_users_default_to_viewers_and_hashes_are_not_shown():
    config = load_config_text(
        f"server:\n  users:\n    - name: vera\n      password_hash: '{HASH}'\n"
    )
    [user] = config.server.users
    assert user.role == "viewer"
