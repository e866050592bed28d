"""Which of an article's places decide a watch's regions (docs/matching.md, "Region gate")."""

from __future__ import annotations

from collections.abc import Sequence

from wirewatch.models import ArticleEncoding, PlaceHit
from wirewatch.rules.places import Region
from wirewatch.rules.prepared import PreparedWatch
from wirewatch.rules.settings import SHIPPED, Rules


def article_places(watch: PreparedWatch, encoding: ArticleEncoding) -> list[PlaceHit]:
    """The article's places as one watch sees them, most salient first.

    The watch's own `places` named in the lead (title, lead paragraph or headline) come
    first, so they decide like lead places; those named only further down come last.
    """
    if not watch.places:
        return encoding.places
    lead = "\n".join(encoding.passages[: encoding.leads])
    body = "\n".join(encoding.passages[encoding.leads :])
    in_lead = [p for p in watch.places if p.pattern.search(lead)]
    in_body = [p for p in watch.places if p not in in_lead and p.pattern.search(body)]
    return [
        *[p.hit(in_lead=True) for p in in_lead],
        *encoding.places,
        *[p.hit(in_lead=False) for p in in_body],
    ]


def deciding_places(places: Sequence[PlaceHit], rules: Rules = SHIPPED) -> list[PlaceHit]:
    """The places that decide the region gate: the lead's places in the article's main country.

    ``places`` come most salient first (see ``Gazetteer.find_places``), so the main country
    is that of the first one. Without any place in the lead, the body's places decide; when
    the lead names only the country ("attacks in southwest Pakistan"), the body's places in
    that country count too: they say where in it.
    """
    if not places or not rules.lead_places:
        return list(places)
    main = places[0].country
    lead = [p for p in places if p.in_lead and p.country == main]
    if lead and (not rules.body_says_where or any(p.admin1 is not None for p in lead)):
        return lead
    return lead + [p for p in places if p.country == main and not p.in_lead]


def region_evidence(
    regions: Sequence[Region], places: Sequence[PlaceHit], rules: Rules = SHIPPED
) -> tuple[list[str], list[str]]:
    """Watched regions the article falls in, and the places that put it there."""
    names: list[str] = []
    inside: list[str] = []
    for hit in deciding_places(places, rules):
        for region in regions:
            if region.contains(hit):
                names.append(region.name)
                inside.append(hit.resolved)
    return list(dict.fromkeys(names)), list(dict.fromkeys(inside))


def no_place_reason(
    regions: Sequence[Region], places: Sequence[PlaceHit], rules: Rules = SHIPPED
) -> str:
    wanted = " or ".join(r.name for r in regions)
    found = [describe_place(p) for p in deciding_places(places, rules)][:4]
    return f"no place inside {wanted} (found: {'; '.join(found) or 'none'})"


def describe_place(hit: PlaceHit) -> str:
    """'Zahedan (Sistan and Baluchestan, IR)'."""
    if hit.admin1 is None or hit.admin1 == hit.resolved:
        return f"{hit.resolved} ({hit.country})" if hit.admin1 else hit.resolved
    return f"{hit.resolved} ({hit.admin1}, {hit.country})"
