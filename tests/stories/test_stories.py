"""One story per event, with the real model and a real store (issue 5).

The texts are written here (not taken from ../shared/corpus). The watches are worded
like the example ones, with a low threshold: every article below is plainly on topic,
so these tests are about story joining and alerting, not about borderline scores.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.fixtures import webhook_receiver as receiver_fixtures
from tests.fixtures.outbox_data import Clock
from wirewatch.config.schema import ModelConfig, WatchConfig
from wirewatch.delivery.worker import DeliveryWorker
from wirewatch.models import Article
from wirewatch.notifiers import WebhookNotifier
from wirewatch.pipeline import Pipeline
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.store import Store

pytestmark = pytest.mark.slow
webhook_receiver = receiver_fixtures.webhook_receiver

T0 = datetime(2026, 1, 30, 22, 0, tzinfo=UTC)
ATTACKS = "balochistan-attacks"
SHUTDOWNS = "pakistan-internet-shutdowns"


def watches(**changes) -> list[WatchConfig]:
    attacks = WatchConfig(
        name=ATTACKS,
        topic="coordinated militant attacks",
        description="Militants carry out several simultaneous or linked assaults on security "
        "forces, government sites or infrastructure in different places at once, or one "
        "complex multi-pronged attack with gunmen and suicide bombers.",
        examples=[
            "Gunmen and suicide bombers struck army camps in three towns at once",
            "Separatist fighters launched simultaneous attacks on military posts in several cities",
            "Twin bombings hit two election offices in different towns",
        ],
        regions=["Balochistan"],
        threshold=0.3,
        notify=["siem"],
        **changes,
    )
    shutdowns = WatchConfig(
        name=SHUTDOWNS,
        topic="internet shutdown",
        description="Authorities order mobile internet, data services, telecom networks or "
        "social media platforms suspended, blocked or throttled.",
        examples=["Mobile internet services were suspended in several districts on orders"],
        regions=["Pakistan"],
        threshold=0.3,
        notify=["siem"],
    )
    return [attacks, shutdowns]


# The seed event, told by five outlets in their own words ...
SEED = [
    (
        "wire",
        "BLA fighters launch simultaneous assaults on security posts across Balochistan",
        "QUETTA - Fighters of the banned Baloch Liberation Army launched simultaneous assaults "
        "on security force posts in Quetta, Mastung, Nushki and Gwadar late on Friday, "
        "officials said. Gunmen and suicide bombers struck at least ten locations across "
        "Balochistan within the space of an hour.\n\nSecurity forces said they repelled most "
        "of the attacks after hours of fighting. Officials said dozens of militants and at "
        "least 15 soldiers and police were killed.\n\nThe separatist group said in a statement "
        "that the operation was coordinated across the province.",
    ),
    (
        "dawn",
        "Militants strike ten towns in coordinated night of attacks in Balochistan",
        "Militants attacked army camps, police stations and a highway checkpoint in at least "
        "ten towns of Balochistan overnight, in what officials called a coordinated assault. "
        "Fighting was reported in Quetta, Mastung and Nushki.\n\nThe Baloch Liberation Army "
        "claimed responsibility. A provincial spokesman said the attackers used suicide bombers "
        "to breach the perimeter of two camps before gunmen moved in.",
    ),
    (
        "geo",
        "Dozens killed as BLA gunmen and bombers hit army camps in Quetta and Nushki at once",
        "Dozens of people were killed when gunmen and suicide bombers of the Baloch Liberation "
        "Army hit army camps in Quetta and Nushki at the same time, the military said on "
        "Saturday. Further attacks targeted police posts in Mastung and the port city of "
        "Gwadar.\n\nThe military said the assaults had been planned together and launched "
        "within minutes of each other.",
    ),
    (
        "tribune",
        "Balochistan: security forces repel wave of simultaneous BLA raids",
        "Security forces in Balochistan repelled a wave of simultaneous raids by Baloch "
        "Liberation Army fighters on Friday night, the provincial government said. The "
        "militants struck security installations in Mastung, Gwadar and Quetta, using car "
        "bombs and gunfire.\n\nA curfew was imposed in parts of Quetta after the coordinated "
        "attacks. Hospitals declared an emergency.",
    ),
    (
        "express",
        "Coordinated militant attacks across Balochistan leave soldiers and police dead",
        "Soldiers and police officers were among the dead after militants carried out "
        "coordinated attacks across Balochistan, striking posts in Nushki, Gwadar and Quetta "
        "almost simultaneously, officials said.\n\nThe Baloch Liberation Army said its fighters "
        "had taken part in the operation. The interior minister condemned what he called a "
        "planned offensive against the state.",
    ),
]
# ... plus a syndicated copy of the wire report, lightly edited, under another outlet's URL.
COPY = (
    "global-news",
    SEED[0][1],
    SEED[0][2].replace("officials said", "police officials said").replace("late on", "late"),
)
# A different attack in Balochistan on the same day.
TWIN_BLASTS = (
    "dawn",
    "Twin blasts hit election offices in Pishin and Qila Saifullah, killing 26",
    "PISHIN - Two bombs exploded outside the offices of election candidates in Pishin and "
    "Qila Saifullah within an hour of each other on Saturday, killing at least 26 people, "
    "officials said. The blasts came a day before polling.\n\nThe provincial government said "
    "the bombings appeared to be linked. No group immediately claimed responsibility.",
)
ATTACK_AND_SHUTDOWN = (
    "samaa",
    "Mobile internet suspended in Balochistan as gunmen and suicide bombers hit three towns",
    "Authorities suspended mobile internet and data services across Balochistan on Saturday "
    "after Baloch Liberation Army gunmen and suicide bombers attacked security posts in "
    "Quetta, Mastung and Nushki simultaneously, officials said.\n\nThe telecom authority "
    "said the shutdown was ordered by the interior ministry for security reasons. The "
    "coordinated assault on several towns at once left soldiers and police dead.",
)
SHUTDOWN_ONLY = (
    "propakistani",
    "Mobile internet stays suspended across Balochistan for a second day",
    "Mobile internet and data services remained suspended across Balochistan on Sunday, a "
    "day after the violence in Quetta, Mastung and Nushki. The telecom "
    "authority said the shutdown had been ordered by the interior ministry and would stay "
    "in place until further notice.",
)


def article(n: int, told: tuple[str, str, str], at: datetime) -> Article:
    outlet, title, text = told
    return Article(
        id=f"{outlet}-{n}",
        outlet=outlet,
        title=title,
        text=text,
        published=at,
        url=f"https://{outlet}.example.org/news/{n}",
        text_source="corpus",
    )


def seed_reports(start: datetime = T0) -> list[Article]:
    """The five reports and the copy, one every 20 minutes."""
    told = [*SEED, COPY]
    return [article(n, t, start + timedelta(minutes=20 * n)) for n, t in enumerate(told)]


@pytest.fixture(scope="module")
def matcher():
    m = Matcher(watches(), Encoder(ModelConfig().name, "cpu"), Gazetteer.load())
    m.prepare()
    yield m
    m.close()


def pipeline(store: Store, matcher: Matcher, clock=None, **watch_changes) -> Pipeline:
    return Pipeline(store, matcher, watches(**watch_changes), **({"clock": clock} if clock else {}))


async def process_one_by_one(p: Pipeline, articles: list[Article]) -> None:
    """Each article in its own batch, as separate polls would bring them."""
    for a in articles:
        await p.process([a])


def stories_of(store: Store, watch: str = ATTACKS) -> list[list[str]]:
    """The watch's stories as lists of article ids, oldest story first."""
    found = sorted(store.stories.recent(limit=100, watch=watch), key=lambda s: int(s.id[2:]))
    return [[s.article_id for s in story.sources] for story in found]


async def test_seed_event_told_five_ways_plus_a_copy_is_one_story_with_six_sources(
    tmp_path, matcher
):
    store = Store(tmp_path / "w.db")
    reports = seed_reports()
    await process_one_by_one(pipeline(store, matcher, Clock(T0)), reports)  # all within 30 s

    assert stories_of(store) == [[a.id for a in reports]]
    [story] = store.stories.recent(watch=ATTACKS)
    assert len(story.sources) == 6 and len({s.outlet for s in story.sources}) == 6
    assert {"Quetta", "Mastung", "Nushki", "Gwadar"} <= set(story.places)
    assert story.first_seen == T0 and story.last_seen == reports[-1].published
    [copy] = [m for m in store.articles.matches_of("global-news-5") if m["watch"] == ATTACKS]
    assert copy["story_id"] == story.id
    trail = [(d["article_id"], d["decision"]) for d in store.decisions.of(story.id)]
    assert trail[0] == ("wire-0", "send")  # one new story, the rest are sources of it
    [alert] = store.outbox.of_story(story.id)  # one alert, listing all six
    assert (alert.kind, alert.article_ids) == ("new_story", [a.id for a in reports])


async def test_an_exact_copy_under_another_outlet_is_a_source_a_repeat_is_not(tmp_path, matcher):
    store = Store(tmp_path / "w.db")
    original = article(0, SEED[0], T0)
    exact_copy = article(1, ("global-news", *SEED[0][1:]), T0 + timedelta(minutes=5))
    same_page = article(2, ("wire", "Updated headline", SEED[0][2] + " More."), T0)
    same_page.url = original.url
    same_text_again = article(3, SEED[0], T0 + timedelta(hours=1))  # same outlet, new URL

    await process_one_by_one(
        pipeline(store, matcher), [original, exact_copy, same_page, same_text_again]
    )

    assert stories_of(store) == [["wire-0", "global-news-1"]]
    for repeat in ("wire-2", "wire-3"):
        [decision] = store.decisions.of(article_id=repeat)
        assert decision["decision"] == "skip" and "duplicate of wire-0" in decision["reason"]
        assert not store.articles.matches_of(repeat)  # never a second match


async def test_two_different_attacks_on_the_same_day_are_two_stories(tmp_path, matcher):
    store = Store(tmp_path / "w.db")
    seed = seed_reports()
    blasts = article(9, TWIN_BLASTS, T0 + timedelta(minutes=30))
    await process_one_by_one(pipeline(store, matcher), [seed[0], seed[1], blasts, seed[2]])

    assert stories_of(store) == [["wire-0", "dawn-1", "geo-2"], ["dawn-9"]]


async def test_a_story_reported_again_after_its_window_opens_a_new_one(tmp_path, matcher):
    store = Store(tmp_path / "w.db")
    first, second, third = seed_reports()[:3]
    second.published = T0 + timedelta(days=3)  # the story window is 48 h from its last article
    third.published = second.published + timedelta(hours=1)
    await process_one_by_one(pipeline(store, matcher), [first, second, third])

    assert stories_of(store) == [["wire-0"], ["dawn-1", "geo-2"]]


async def test_the_story_window_is_set_per_watch(tmp_path, matcher):
    store = Store(tmp_path / "w.db")
    reports = seed_reports()
    first, copy = reports[0], reports[-1]  # the wire copy: it joins whenever it may
    copy.published = T0 + timedelta(days=3)
    await process_one_by_one(pipeline(store, matcher), [first, copy])
    assert stories_of(store) == [["wire-0"], ["global-news-5"]]  # 48 h by default

    store = Store(tmp_path / "w5.db")
    await process_one_by_one(pipeline(store, matcher, story_window=5 * 86400), [first, copy])
    assert stories_of(store) == [["wire-0", "global-news-5"]]


async def test_one_article_can_belong_to_stories_of_several_watches(tmp_path, matcher):
    store = Store(tmp_path / "w.db")
    both = article(0, ATTACK_AND_SHUTDOWN, T0)
    later = article(1, SHUTDOWN_ONLY, T0 + timedelta(hours=20))
    await process_one_by_one(pipeline(store, matcher), [both, later])

    assert stories_of(store, ATTACKS) == [["samaa-0"]]
    assert stories_of(store, SHUTDOWNS) == [["samaa-0", "propakistani-1"]]
    alerts = sorted((r.kind, r.article_ids) for r in store.outbox.rows())  # one per story
    assert alerts == [("new_story", ["samaa-0"]), ("new_story", ["samaa-0", "propakistani-1"])]


async def test_restart_in_the_middle_changes_nothing(tmp_path, matcher):
    reports = [*seed_reports(), article(9, TWIN_BLASTS, T0 + timedelta(minutes=30))]
    reports.sort(key=lambda a: a.published)

    clock = Clock(T0)
    straight = Store(tmp_path / "straight.db")
    await process_one_by_one(pipeline(straight, matcher, clock), reports)

    path = tmp_path / "restarted.db"
    before = Store(path)
    await process_one_by_one(pipeline(before, matcher, clock), reports[:4])
    before.close()  # the service stops; a new process opens the same database
    after = Store(path)
    await process_one_by_one(pipeline(after, matcher, clock), reports)  # the rest, and repeats

    assert stories_of(after) == stories_of(straight)
    assert outbox_of(after) == outbox_of(straight)
    assert trail_of(after) == trail_of(straight)


def outbox_of(store: Store) -> list[tuple[str, str, str, list[str]]]:
    return [(r.story_id, r.notifier, r.kind, r.article_ids) for r in store.outbox.rows()]


def trail_of(store: Store) -> list[tuple]:
    keys = ("watch", "story_id", "article_id", "notifier", "decision", "reason")
    return [tuple(d[k] for k in keys) for d in store.decisions.of()]


async def test_alert_policy_groups_a_new_story_then_batches_its_updates(
    tmp_path, matcher, webhook_receiver
):
    """30 s grouping wait: near-simultaneous reports make one alert; updates go out at most
    once per update interval (30 min), each listing the new sources only."""
    store, clock = Store(tmp_path / "w.db"), Clock(T0)
    p = pipeline(store, matcher, clock)
    hook = WebhookNotifier(SimpleNamespace(name="siem", url=webhook_receiver.url, secret=None))
    worker = DeliveryWorker(store, {"siem": hook}, clock=clock)
    wire, dawn, geo, tribune, express, copy = seed_reports()

    async def at(seconds: float, *articles: Article) -> None:
        clock.now = T0 + timedelta(seconds=seconds)
        for a in articles:
            await p.process([a])
        await worker.deliver_due()

    try:
        await at(0, wire)
        await at(10, dawn)
        await at(25, geo)
        assert not webhook_receiver.requests  # still inside the grouping wait
        await at(31)
        await at(5 * 60, tribune)
        await at(12 * 60, express)
        await at(20 * 60)
        assert len(webhook_receiver.requests) == 1  # updates wait for the update interval
        await at(31 * 60 + 1, copy)
        await at(40 * 60)
    finally:
        await hook.close()

    sent = [r.json() for r in webhook_receiver.requests]
    assert [(b["kind"], [a["id"] for a in b["articles"]]) for b in sent] == [
        ("new_story", ["wire-0", "dawn-1", "geo-2"]),
        ("story_update", ["tribune-3", "express-4"]),
    ]
    assert sent[0]["story"]["sources"] == 3
    assert sent[1]["story"]["sources"] == 6  # the copy had just joined: counted, not listed
    _, update, copy_row = store.outbox.rows()
    assert copy_row.status == "pending" and copy_row.article_ids == ["global-news-5"]
    assert copy_row.next_attempt_at == update.next_attempt_at + timedelta(minutes=30)
    decisions = [d["decision"] for d in store.decisions.of(copy_row.story_id)]
    assert decisions == [
        "send", "grouped", "grouped", "delivered", "send", "grouped", "send", "delivered",
    ]  # fmt: skip


async def test_silenced_stories_are_recorded_not_notified(tmp_path, matcher, webhook_receiver):
    store, clock = Store(tmp_path / "w.db"), Clock(T0)
    p = pipeline(store, matcher, clock)
    hook = WebhookNotifier(SimpleNamespace(name="siem", url=webhook_receiver.url, secret=None))
    worker = DeliveryWorker(store, {"siem": hook}, clock=clock)
    wire, dawn, *_ = seed_reports()
    blasts = article(9, TWIN_BLASTS, T0 + timedelta(minutes=1))
    try:
        await p.process([wire])  # queued, in its grouping wait ...
        sid = store.articles.stories_of("wire-0")[0][1]
        store.silences.add(ends_at=T0 + timedelta(hours=6), story_id=sid, reason="known op", now=T0)
        await p.process([dawn])  # ... and this report comes in while the story is silenced
        await p.process([blasts])  # another story: not silenced
        clock.now += timedelta(minutes=5)
        await worker.deliver_due()
    finally:
        await hook.close()

    [sent] = [r.json() for r in webhook_receiver.requests]
    assert sent["articles"][0]["id"] == "dawn-9"
    kinds = {d["decision"] for d in store.decisions.of(sid)}
    assert {"silenced"} <= kinds and "delivered" not in kinds
    assert [r.status for r in store.outbox.of_story(sid)] == ["silenced"]
