"""The dashboard for the watch floor, served on `server.listen` next to /healthz and /metrics.

    site.py        templates, the session/CSRF guard, login and logout, role-checked POSTs
    access.py      users and roles, signed session cookies, password hashes
    reader.py      the dashboard's own read connection, in a worker thread
    stories.py     / (live stories), /stories/ID, Mute
    judgements.py  Relevant / Not relevant on a story, Undo (through service.feedback)
    operations.py  /outlets, /deliveries (retry), /silences (create, expire)
    watches.py     /watches/NAME: definition, decisions, near misses, "try it", replay
    mapsvg.py      a story's places on an offline SVG map

Reads are the queries of `store/views.py`; templates and static files ship in the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from wirewatch.config.schema import ServerConfig
from wirewatch.dashboard import judgements, operations, stories, watches
from wirewatch.dashboard.access import Access
from wirewatch.dashboard.reader import Reader
from wirewatch.dashboard.site import (
    ACCESS,
    TEMPLATES,
    add_login_routes,
    guard,
    static_dir,
    templates,
)

if TYPE_CHECKING:
    from wirewatch.service.service import Service

__all__ = ["setup_dashboard"]


def setup_dashboard(
    app: web.Application, service: Service, *, server: ServerConfig | None = None
) -> None:
    """Add the dashboard's routes, its guard and its reader to the server's app; access
    (users, session secret) from `server`, by default the service's own `server` section."""
    server = server or service.config.server
    assert server is not None
    reader = Reader(service)
    app[ACCESS] = Access(server)
    app[TEMPLATES] = templates()
    app[stories.READER] = reader
    app[stories.SERVICE] = service
    app.middlewares.append(guard)
    app.router.add_static("/static/", static_dir())
    add_login_routes(app)
    stories.add_routes(app)
    judgements.add_routes(app)
    operations.add_routes(app)
    watches.add_routes(app)

    async def close_reader(_app: web.Application) -> None:
        await reader.close()

    app.on_cleanup.append(close_reader)
