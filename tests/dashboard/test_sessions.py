"""Sessions, roles and redirects without a browser: hostile cookies and `next` targets."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from wirewatch.config.schema import ServerConfig
from wirewatch.dashboard.access import Access, Session, csrf_ok, hash_password
from wirewatch.dashboard.site import safe_next

HASH = hash_password("pw")
USERS = [
    {"name": "vera", "password_hash": HASH},
    {"name": "ada", "password_hash": HASH, "role": "admin"},
]


def server(**changes) -> ServerConfig:
    return ServerConfig.model_validate(
        {"listen": "127.0.0.1:0", "session_secret": "s" * 32, "users": USERS, **changes}
    )


WITH_USERS = server()
ACCESS = Access(WITH_USERS)


@given(st.text(max_size=300))
def test_no_forged_cookie_is_a_login(cookie):
    session = ACCESS.read(cookie)
    assert session is None or session.user is None


def test_a_cookie_signed_with_another_secret_is_refused():
    other = Access(server(session_secret="t" * 32))
    _, cookie = other.new_session("ada")
    assert ACCESS.read(cookie) is None
    _, cookie = ACCESS.new_session("ada")
    assert ACCESS.read(cookie) == Session("ada", "admin", ACCESS.read(cookie).csrf)


def test_an_expired_session_is_no_login(monkeypatch):
    _, cookie = ACCESS.new_session("ada")
    later = time.time() + WITH_USERS.session_max_age + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert ACCESS.read(cookie) is None


def test_a_removed_user_is_logged_out():
    _, cookie = ACCESS.new_session("ada")
    fewer = Access(server(users=USERS[:1]))
    assert fewer.read(cookie).user is None


def test_roles_rank_viewer_analyst_admin():
    viewer, admin = Session("v", "viewer", "x"), Session("a", "admin", "x")
    assert viewer.may("viewer") and not viewer.may("analyst")
    assert admin.may("analyst") and admin.may("admin")
    assert not Session(None, None, "x").may("viewer")


@given(st.text(max_size=60))
def test_csrf_tokens_compare_exactly(token):
    session = Session("v", "viewer", "right-token")
    assert csrf_ok(session, token) == (token == "right-token")
    assert not csrf_ok(None, token)


def test_passwords_are_checked_against_the_hash():
    # a loop of its own in a thread: the browser tests' Playwright holds this thread's loop
    def check(user: str, password: str) -> bool:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, ACCESS.check_password(user, password)).result()

    assert check("vera", "pw")
    assert not check("vera", "PW")
    assert not check("nobody", "pw")


@given(st.text(max_size=80))
def test_next_never_leaves_the_site(target):
    result = safe_next(target)
    assert result.startswith("/") and not result.startswith("//") and "\\" not in result
