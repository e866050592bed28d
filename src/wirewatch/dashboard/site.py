"""What every dashboard page shares: templates, the session and CSRF guard, login/logout,
and role-checked POST routes.

`/healthz`, `/metrics` and `/static/` are served without a session. Every other request
gets a signed session cookie (a fresh anonymous one when it has none); a POST must carry
the session's CSRF token in its `csrf` field, and a route added with `post(..., role)` is
refused (403) to a session below that role.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from wirewatch.dashboard.access import COOKIE, Access, Session, csrf_ok

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCESS = web.AppKey("access", Access)
TEMPLATES = web.AppKey("templates", Environment)
SESSION = web.RequestKey("session", Session)
# Slack's button clicks carry Slack's signature instead of a session (feedback/slack.py)
PUBLIC_PREFIXES = ("/healthz", "/metrics", "/static/", "/slack/actions")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("wirewatch.dashboard", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["ago"] = ago
    return env


def static_dir() -> str:
    return str(files("wirewatch.dashboard") / "static")


def when(value: datetime | str | None) -> str:
    """'2026-12-07 16:04Z'; an ISO string is read first."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def ago(value: datetime | str | None) -> str:
    """'5 min ago', '3 h ago', '2 d ago'."""
    if value is None or value == "":
        return "never"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    seconds = max(0.0, (datetime.now(UTC) - value).total_seconds())
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} d ago"


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    session: Session = request[SESSION]
    access = request.app[ACCESS]
    page = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            session=session,
            open_access=access.open,
            csrf=session.csrf,
            path=request.path,
            **context,
        )
    )
    return web.Response(text=page, status=status, content_type="text/html")


def refuse(request: web.Request, message: str, status: int = 403) -> web.Response:
    return render(request, "refused.html", status=status, message=message)


def post(app: web.Application, path: str, handler: Handler, role: str) -> None:
    """A POST route that sessions below `role` are refused (the CSRF check is the guard's)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if not request[SESSION].may(role):
            return refuse(
                request, f"This needs the {role} role; you are a {request[SESSION].role}."
            )
        return await handler(request)

    app.router.add_post(path, guarded)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    started = time.perf_counter()
    access = request.app[ACCESS]
    session = access.read(request.cookies.get(COOKIE))
    cookie = None
    if session is None:
        session, cookie = access.new_session()
    request[SESSION] = session
    response = await _guarded(request, handler, session)
    if cookie is not None and COOKIE not in response.cookies:
        set_session_cookie(response, cookie, access)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


async def _guarded(request: web.Request, handler: Handler, session: Session) -> web.StreamResponse:
    if request.method == "POST":
        form = await request.post()
        if not csrf_ok(session, form.get("csrf")):
            return refuse(
                request,
                "The form's security token is missing or stale: reload the page and try again.",
            )
    if session.user is None and request.path != "/login":
        if request.method != "GET":
            return refuse(request, "Log in first.", status=401)
        return redirect("/login?next=" + quote(request.path_qs, safe=""))
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return refuse(request, "No such page.", status=404)


def redirect(location: str) -> web.Response:
    """A 303 See Other (after a POST the browser GETs the target)."""
    return web.Response(status=303, headers={"Location": location})


def set_session_cookie(response: web.StreamResponse, cookie: str, access: Access) -> None:
    response.set_cookie(
        COOKIE, cookie, httponly=True, samesite="Strict", path="/", max_age=int(access.max_age)
    )


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//host` or a full URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.app[ACCESS].open or request[SESSION].user:
        return redirect(safe_next(request.query.get("next")))
    return render(request, "login.html", next=safe_next(request.query.get("next")), error=None)


async def login(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    form = await request.post()
    user, password = str(form.get("user", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    if not await access.check_password(user, password):
        return render(
            request, "login.html", status=401, next=target, error="Wrong name or password."
        )
    _, cookie = access.new_session(user)
    response = redirect(target)
    set_session_cookie(response, cookie, access)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    _, cookie = access.new_session()
    response = redirect("/login")
    set_session_cookie(response, cookie, access)
    return response


def add_login_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
