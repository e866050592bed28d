"""`wirewatch hash-password`: an argon2 hash for `server.users[].password_hash`.

The password is asked for twice on a terminal (not echoed), or read as one line from
standard input; only the hash is printed, so the password never lands in the config.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from wirewatch.cli.common import AddCommand


def register(command: AddCommand) -> None:
    command(
        "hash-password",
        cmd_hash_password,
        "Print an argon2 hash of a dashboard user's password, for server.users[].password_hash.",
        config=False,
    )


def read_password() -> str | None:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        print("wirewatch hash-password: the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_hash_password(_args: argparse.Namespace) -> int:
    from wirewatch.dashboard.access import hash_password

    password = read_password()
    if password is None:
        return 1
    if not password:
        print("wirewatch hash-password: the password is empty", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0
