"""DATABASE.pid: one service per database, and `reload` finds the live one only."""

from __future__ import annotations

import os
import stat

import pytest

from tests.fixtures.configs import service_config, sqlite
from wirewatch.cli.main import main
from wirewatch.service.pidfile import (
    AlreadyRunning,
    PidFile,
    UnsafePidFile,
    pid_path,
    running_service,
)


def test_the_pid_file_sits_next_to_the_database():
    assert str(pid_path("/data/wirewatch.db")) == "/data/wirewatch.db.pid"
    assert pid_path(":memory:") is None


def test_a_second_service_on_the_same_database_is_refused(tmp_path):
    path = tmp_path / "w.db.pid"
    first = PidFile(path)
    first.acquire("/etc/wirewatch.yaml")
    try:
        with pytest.raises(AlreadyRunning, match=f"pid {os.getpid()} already runs"):
            PidFile(path).acquire("/etc/other.yaml")
        service = running_service(path)
        assert service is not None
        assert (service.pid, service.config) == (os.getpid(), "/etc/wirewatch.yaml")
    finally:
        first.release()
    assert not path.exists()
    assert running_service(path) is None


def test_a_file_left_by_a_killed_service_is_stale(tmp_path):
    path = tmp_path / "w.db.pid"
    path.write_text("4242\n/etc/wirewatch.yaml\n")  # no one holds its lock
    assert running_service(path) is None
    again = PidFile(path)
    again.acquire("/etc/wirewatch.yaml")  # taken over
    try:
        assert path.read_text().splitlines()[0] == str(os.getpid())
    finally:
        again.release()


def test_the_pid_file_is_the_owners_only(tmp_path):
    old = os.umask(0o022)  # the common umask: files world-readable unless created otherwise
    try:
        pidfile = PidFile(tmp_path / "w.db.pid")
        pidfile.acquire("/etc/wirewatch.yaml")
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE((tmp_path / "w.db.pid").stat().st_mode) == 0o600
    finally:
        pidfile.release()


def test_a_symbolic_link_at_the_pid_file_path_is_refused_not_followed(tmp_path):
    victim = tmp_path / "authorized_keys"  # any file of the service user's
    victim.write_text("ssh-ed25519 AAAA... ana@laptop\n")
    path = tmp_path / "w.db.pid"
    path.symlink_to(victim)

    with pytest.raises(UnsafePidFile, match="it is a symbolic link; remove it"):
        PidFile(path).acquire("/etc/wirewatch.yaml")
    with pytest.raises(UnsafePidFile):
        running_service(path)

    assert victim.read_text() == "ssh-ed25519 AAAA... ana@laptop\n"  # not truncated
    assert path.is_symlink()


def test_a_dangling_symbolic_link_creates_nothing(tmp_path):
    path = tmp_path / "w.db.pid"
    path.symlink_to(tmp_path / "elsewhere")

    with pytest.raises(UnsafePidFile):
        PidFile(path).acquire("/etc/wirewatch.yaml")
    assert not (tmp_path / "elsewhere").exists()


def test_run_and_reload_say_why_they_refuse_a_linked_pid_file(tmp_path, capsys):
    config = service_config(tmp_path, storage=sqlite(tmp_path / "w.db"))
    (tmp_path / "w.db.pid").symlink_to(tmp_path / "elsewhere")

    for command in (["run"], ["run", "--wait"], ["reload"]):
        assert main([*command, "-c", str(config)]) == 1
        err = capsys.readouterr().err
        assert f"refusing to use the pid file {tmp_path / 'w.db.pid'}: it is a symbolic link" in err
    assert not (tmp_path / "elsewhere").exists()
