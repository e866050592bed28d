"""DATABASE.pid: one service per database, and `reload` finds the live one only."""

from __future__ import annotations

import os

import pytest

from wirewatch.service.pidfile import AlreadyRunning, PidFile, pid_path, running_service


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
