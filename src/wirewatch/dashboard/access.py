"""Who may see and change what: users and roles, signed session cookies, CSRF tokens.

With a loopback listen address and no users configured, everyone who can connect is the
local admin (as with Prometheus and Alertmanager). Otherwise a user logs in with the
password whose argon2 hash the config holds. The session is a cookie signed with
itsdangerous (name, CSRF token, issued at); every POST must carry that token in its form,
and the route's role: a viewer posts nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from wirewatch.config.schema import ServerConfig
from wirewatch.config.types import is_loopback

COOKIE = "wirewatch_session"
ROLES = ("viewer", "analyst", "admin")
LOCAL_USER = "local"


@dataclass(frozen=True)
class Session:
    user: str | None  # None: not logged in
    role: str | None
    csrf: str

    def may(self, role: str) -> bool:
        """Whether this session holds `role` or a higher one."""
        return self.role is not None and ROLES.index(self.role) >= ROLES.index(role)


class Access:
    def __init__(self, server: ServerConfig) -> None:
        self.users = {u.name: u for u in server.users}
        self.open = not self.users and is_loopback(server.host)
        secret = server.session_secret.get_secret_value() if server.session_secret else None
        self.max_age = server.session_max_age
        self._signer = URLSafeTimedSerializer(
            secret or secrets.token_urlsafe(32), salt="wirewatch-dashboard-session"
        )
        self._hasher = PasswordHasher()

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, or None (absent, forged, expired, user removed)."""
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        user = data.get("user")
        if self.open:
            return Session(LOCAL_USER, "admin", data["csrf"])
        if user is None or user not in self.users:
            return Session(None, None, data["csrf"])
        return Session(user, self.users[user].role, data["csrf"])

    def new_session(self, user: str | None = None) -> tuple[Session, str]:
        """A fresh session (new CSRF token) and its cookie value."""
        csrf = secrets.token_urlsafe(24)
        cookie = self._signer.dumps({"user": user, "csrf": csrf})
        session = self.read(cookie)
        assert session is not None
        return session, cookie

    async def check_password(self, user: str, password: str) -> bool:
        """argon2 verification (deliberately slow) in a worker thread."""
        known = self.users.get(user)
        if known is None:
            return False
        try:
            return await asyncio.to_thread(self._hasher.verify, known.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def csrf_ok(session: Session | None, token: object) -> bool:
    return (
        session is not None
        and isinstance(token, str)
        and hmac.compare_digest(session.csrf.encode(), token.encode())
    )


def hash_password(password: str) -> str:
    """An argon2id hash for `server.users[].password_hash` (`wirewatch hash-password`)."""
    return PasswordHasher().hash(password)
