"""Matcher with the real bundled model: the seed case, the negatives, passages, reasons."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from wirewatch import defaults
from wirewatch.models import Article
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.exclusions import topical_stems
from wirewatch.rules.lexical import clause_stems
from wirewatch.rules.matcher import Matcher, reference_texts
from wirewatch.rules.passages import lead_count, split_passages
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.reading import lead_passages
from wirewatch.rules.settings import SHIPPED
from wirewatch.rules.verdict import trim

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "watches.example.yaml"
KEYS = ("topic", "description", "examples", "exclude", "regions", "threshold", "notify")


def watch(**fields: object) -> SimpleNamespace:
    return SimpleNamespace(**{"exclude_threshold": None, **dict.fromkeys(KEYS), **fields})


def example_watches() -> list[SimpleNamespace]:
    data = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    watches = [watch(**w) for w in data["watches"]]
    shutdowns = next(w for w in watches if w.name == "internet-shutdowns")
    extra = watch(
        **{**vars(shutdowns), "name": "balochistan-shutdowns", "regions": ["Balochistan"]}
    )
    return [*watches, extra]


def article(title: str, *paragraphs: str, id: str = "a-1") -> Article:
    return Article(id, "wire", title, "\n\n".join(paragraphs), datetime(2026, 1, 31, tzinfo=UTC))


SEED = article(
    "BLA fighters storm ten Balochistan cities at once; mobile internet suspended",
    "QUETTA, Pakistan (Reuters) - Baloch Liberation Army fighters launched simultaneous "
    "assaults on security forces in ten cities across Balochistan on Saturday, attacking army "
    "camps, police stations and government offices in Quetta, Gwadar, Pasni, Mastung and "
    "Nushki, officials said.",
    "Gunmen and suicide bombers struck within minutes of one another, in what the banned "
    "separatist group called a coordinated operation. At least 30 soldiers and 40 militants "
    "were killed in the fighting, which lasted into the night.",
    "Security officials said the attacks had been planned for months. Curfews were imposed "
    "in several towns and highways to Karachi were closed.",
    "After the assaults the provincial government ordered mobile internet services suspended "
    "in Quetta, Mastung, Nushki and several other districts for security reasons. The Pakistan "
    "Telecommunication Authority said mobile data would stay off until further notice.",
)
WASHINGTON = article(
    "US government shutdown enters third week as Congress deadlocks",
    "WASHINGTON - The federal government shutdown entered its third week on Monday as "
    "Republicans and Democrats in Congress failed to agree on a spending bill.",
    "Hundreds of thousands of federal workers have been furloughed, national parks are closed "
    "and agencies have stopped processing applications until the budget impasse ends.",
)
RANSOMWARE = article(
    "Coordinated cyber attack knocks Quetta bank servers offline",
    "QUETTA, Pakistan - Hackers launched a coordinated ransomware attack on the servers of "
    "three banks in Balochistan on Tuesday, encrypting customer records and taking ATMs and "
    "online banking offline across the province.",
    "Bank officials said the malware spread through the payment network overnight and that "
    "IT teams were restoring systems from backups. No customer funds were lost.",
)
CRICKET = article(
    "Quetta Gladiators beat Karachi Kings in thrilling final over",
    "QUETTA, Pakistan - Quetta Gladiators won by three wickets in the final over of the match "
    "on Sunday, with their opener hitting 84 runs off 52 balls at a packed stadium.",
    "The captain praised the bowlers for a disciplined performance in the last five overs.",
)
ZAHEDAN = article(
    "Militants launch simultaneous attacks on police stations in Zahedan",
    "ZAHEDAN, Iran - Gunmen and suicide bombers attacked three police stations and a "
    "Revolutionary Guards base simultaneously in Zahedan, the capital of Sistan and "
    "Baluchestan province in southeastern Iran, killing 11 members of the security forces.",
    "Iranian state media blamed a separatist group for the coordinated assaults. The province "
    "borders Pakistan and Afghanistan.",
)
SINGLE = article(
    "Bomb blast kills three at Quetta market",
    "QUETTA, Pakistan - A bomb hidden in a motorcycle exploded at a crowded market in Quetta "
    "on Tuesday, killing three people and wounding nine, police said.",
    "No group immediately claimed responsibility for the blast in the capital of Balochistan.",
)


@pytest.fixture(scope="module")
def matcher():
    m = Matcher(example_watches(), Encoder(), Gazetteer.load())
    m.prepare()
    yield m
    m.close()


@pytest.fixture(scope="module")
def decided(matcher):
    articles = [SEED, WASHINGTON, RANSOMWARE, CRICKET, ZAHEDAN, SINGLE]
    results = asyncio.run(matcher.match_articles(articles))
    return {
        a.title: (enc, {m.watch: m for m in matches})
        for a, (enc, matches) in zip(articles, results, strict=True)
    }


def test_every_watch_decides_every_article(decided, matcher):
    names = [w.name for w in matcher.watches]
    for _, matches in decided.values():
        assert list(matches) == names


def test_seed_matches_attacks_and_shutdowns(decided):
    _, matches = decided[SEED.title]
    for name in ("balochistan-attacks", "pakistan-internet-shutdowns", "balochistan-shutdowns"):
        assert matches[name].matched, matches[name].reason
    attacks = matches["balochistan-attacks"]
    assert attacks.regions == ["Balochistan"]
    assert {"Quetta", "Gwadar", "Pasni", "Mastung", "Nushki"} <= set(attacks.places)
    # bound to the coordinated-attack detector by its own text (rules/events.py)
    assert attacks.reason.startswith(f"detector coordinated_attack {attacks.score:.2f} ≥")
    assert "in Balochistan via" in attacks.reason
    assert matches["pakistan-internet-shutdowns"].regions == ["Pakistan"]
    assert "internet" in matches["pakistan-internet-shutdowns"].evidence


def test_washington_shutdown_is_not_an_internet_shutdown(decided):
    _, matches = decided[WASHINGTON.title]
    for name in ("pakistan-internet-shutdowns", "internet-shutdowns"):
        assert not matches[name].matched, matches[name].reason


def test_cyber_attack_on_banks_is_excluded(decided):
    _, matches = decided[RANSOMWARE.title]
    attacks = matches["balochistan-attacks"]
    assert not attacks.matched
    assert attacks.excluded_by == "a cyber attack by hackers on bank servers"
    assert attacks.reason.startswith("excluded: headline says 'bank, cyber, server' like")


def test_cricket_in_quetta_is_no_attack(decided):
    _, matches = decided[CRICKET.title]
    assert not any(m.matched for m in matches.values())
    assert "<" in matches["balochistan-attacks"].reason


def test_zahedan_is_not_balochistan(decided):
    encoding, matches = decided[ZAHEDAN.title]
    attacks = matches["balochistan-attacks"]
    assert not attacks.matched
    assert attacks.regions == [] and attacks.places == []
    assert attacks.score >= attacks.threshold  # the topic fits; the place does not
    assert attacks.reason.startswith("no place inside Balochistan (found: Zahedan")
    assert all(p.admin1 != "Balochistan" for p in encoding.places)


def test_single_attack_scores_below_coordinated(decided):
    # Judgement call (docs/matching.md): a lone bombing may still pass; it must rank lower.
    # An expected failure until the detectors learned the corpus's hard single attacks.
    single = decided[SINGLE.title][1]["balochistan-attacks"]
    seed = decided[SEED.title][1]["balochistan-attacks"]
    assert single.score < seed.score - 0.05


def test_match_sync_equals_async(decided, matcher):
    encoding, matches = decided[SEED.title]
    again = {m.watch: m for m in matcher.match(SEED, encoding)}
    assert again == matches


async def test_one_encoder_call_per_batch_and_reading_step(matcher, monkeypatch):
    calls: list[int] = []
    original = matcher.encoder.encode_with_tokens_async

    async def spy(texts):
        calls.append(len(texts))
        return await original(texts)

    monkeypatch.setattr(matcher.encoder, "encode_with_tokens_async", spy)
    encodings = await matcher.encode_articles([SEED, CRICKET, WASHINGTON])
    # one call for the leads (the exclude phrases judge them), one for the sentences of the
    # articles whose lead makes a second event plausible (rules/reading.py)
    assert len(calls) == 2
    assert sum(calls) == sum(len(e.vectors) for e in encodings)
    seed = encodings[0]  # its last sentences hold a second event: every sentence read
    assert len(seed.vectors) == len(seed.passages)
    for e in encodings:
        assert e.leads <= len(e.vectors) <= len(e.passages)
        assert e.vectors.shape[1] == 384 and e.lead_vector.shape == (384,)
        assert [t.shape[1] for t in e.tokens] == [384] * len(e.vectors)


def test_unknown_region_is_reported():
    m = Matcher([watch(name="w", topic="t", regions=["Balochstan"])], Encoder(), Gazetteer.load())
    with pytest.raises(ValueError, match=r"unknown region 'Balochstan' \(did you mean Balochistan"):
        m.prepare()


def test_reference_texts_and_trim():
    w = watch(
        name="w", topic="internet shutdown", description="Authorities cut it.", examples=["x", " "]
    )
    assert reference_texts(w) == ["internet shutdown: Authorities cut it.", "x"]
    assert trim("word " * 200, 50).endswith("…") and len(trim("word " * 200, 50)) <= 50


# ---- passages -------------------------------------------------------------------------------
LIMIT = max(defaults.LEAD_MAX_WORDS, defaults.SENTENCE_MAX_WORDS)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200), st.lists(st.text(max_size=600), max_size=30))
def test_passages_any_text(title, paragraphs):
    text = "\n".join(paragraphs)
    passages = split_passages(title, text)
    assert passages and len(passages) <= defaults.MAX_PASSAGES
    assert all(len(p.split()) <= LIMIT for p in passages)
    lead = " ".join(
        [title, *[p for p in text.split("\n") if p.strip()][: defaults.LEAD_PARAGRAPHS]]
    ).split()
    assert passages[0].split() == lead[: defaults.LEAD_MAX_WORDS]
    if (title + text).split():
        assert all(p.split() for p in passages)
    headline = " ".join(title.split()[: defaults.LEAD_MAX_WORDS])
    has_headline = bool(headline) and headline != passages[0]
    assert lead_count(title, passages) == (2 if has_headline else 1)
    if has_headline:
        assert passages[1] == headline


def test_passages_are_the_lead_the_headline_and_every_sentence_in_order():
    sentences = [
        f"Sentence number {i} says something about the events of the day." for i in range(20)
    ]
    text = "Lead paragraph one. It has two sentences.\n" + " ".join(sentences)
    passages = split_passages("Title", text)
    assert passages[0] == "Title Lead paragraph one. It has two sentences."
    assert passages[1] == "Title" and lead_count("Title", passages) == 2
    assert passages[2:] == ["Lead paragraph one.", "It has two sentences.", *sentences]


def test_a_long_sentence_is_cut_into_pieces():
    sentence = " ".join(f"w{i}" for i in range(2 * defaults.SENTENCE_MAX_WORDS + 5)) + "."
    passages = split_passages("T", "Lead.\n" + sentence)
    pieces = passages[3:]
    assert [len(p.split()) for p in pieces] == [defaults.SENTENCE_MAX_WORDS] * 2 + [5]
    assert " ".join(pieces) == sentence


def test_without_a_similarity_watch_the_english_model_reads_only_what_the_detectors_read():
    passages = ["Title. First sentence.", "Title", "First sentence.", "w " * 50, "Third.", "Far."]
    # the lead passages, then the sentences begun within the first 53 words of the text
    assert lead_passages(passages, 2, words=53) == passages[:5]
    assert lead_passages(passages, 2, words=2) == passages[:3]
    assert lead_passages(passages[:1], 1) == passages[:1]


def test_passages_are_capped():
    text = "Lead.\n\n" + " ".join(
        "Another long sentence keeps going on and on." for _ in range(3000)
    )
    assert len(split_passages("T", text)) == defaults.MAX_PASSAGES


LIFTED = article(
    "Authorities lift mobile internet ban in Quetta after ten days",
    "QUETTA, Pakistan - Mobile internet services were restored across Quetta on Monday after "
    "the provincial government lifted a ban imposed ten days ago following attacks in the city.",
    "Residents said connections were slow but working. Shops that depend on digital payments "
    "reopened.",
)
EDITORIAL = article(
    "Editorial: Balochistan's coordinated attacks demand a political answer",
    "The simultaneous assaults by militants on security posts in ten Balochistan towns last "
    "week show that force alone will not end the insurgency.",
    "Islamabad must talk to Baloch leaders instead of suspending the internet every time.",
)


def test_a_restoration_is_excluded_by_the_words_that_set_it_apart(matcher):
    [(_, matches)] = asyncio.run(matcher.match_articles([LIFTED]))
    shutdowns = {m.watch: m for m in matches}["pakistan-internet-shutdowns"]
    assert not shutdowns.matched
    assert shutdowns.excluded_by is not None and "restored" in shutdowns.excluded_by
    assert shutdowns.reason.startswith("excluded:")


LIFTED_IN_OTHER_WORDS = article(
    "State lifts mobile internet ban in nine districts",
    "The state government has lifted the ban on mobile internet services in nine districts "
    "and asked users not to share inflammatory posts.",
    "Both mobile and broadband internet had been suspended in the districts on November 16 "
    "after violent protests, and the order had been extended twice since.",
)
EXTENDED = article(
    "State extends mobile internet ban in nine districts",
    "The state government has extended the ban on mobile internet services in nine districts "
    "by five days and asked users not to share inflammatory posts.",
    "Both mobile and broadband internet had been suspended in the districts on November 16 "
    "after violent protests.",
)


def test_a_restoration_said_in_the_headline_and_first_sentence_is_excluded(matcher):
    """The lead is much closer to the watch than to "... restored after the shutdown was
    lifted" (internet, mobile, ban weigh more than lifted): the words, said twice, decide."""
    [(_, lifted), (_, extended)] = asyncio.run(
        matcher.match_articles([LIFTED_IN_OTHER_WORDS, EXTENDED])
    )
    lifted_match = {m.watch: m for m in lifted}["internet-shutdowns"]
    assert not lifted_match.matched
    assert "headline and first sentence say 'lift'" in lifted_match.reason
    assert {m.watch: m for m in extended}["internet-shutdowns"].matched


NEW_BLACKOUT = article(
    "Government orders new mobile internet blackout in the valley",
    "Authorities ordered a new suspension of mobile internet services in the valley on Friday.",
)
NEW_NETWORK = article(
    "Telecom operator launches 5G mobile network in the capital",
    "The country's largest telecom operator launched its 5G mobile network in the capital on "
    "Friday, promising faster data services to subscribers.",
)


def test_a_common_word_of_an_exclude_phrase_excludes_nothing(matcher):
    """ "a telecom company launches a new mobile network" is no reason to drop "a new mobile
    internet blackout": "new" is too common to set the near miss apart, "launches" is not."""
    shutdowns = next(w for w in matcher.prepared if w.name == "internet-shutdowns")
    network = shutdowns.excludes.texts.index("a telecom company launches a new mobile network")
    assert shutdowns.exclude_word_forms[network] == ("launches",)
    [(_, blackout), (_, launch)] = asyncio.run(matcher.match_articles([NEW_BLACKOUT, NEW_NETWORK]))
    assert {m.watch: m for m in blackout}["internet-shutdowns"].matched
    assert not {m.watch: m for m in launch}["internet-shutdowns"].matched


LAUNCHED = article(
    "Militants launch attack on police posts in Bannu",
    "Militants launched an attack on two police posts in Bannu district on Sunday night, "
    "killing three officers.",
)


def test_the_example_exclude_phrases_spare_the_words_of_real_events(matcher):
    """With "hackers *launched* a cyber attack", "launch" in headline and first sentence
    excluded this attack; the example phrases keep such words out."""
    [(_, launched)] = asyncio.run(matcher.match_articles([LAUNCHED]))
    assert {m.watch: m for m in launched}["pakistan-attacks"].matched
    for prepared in matcher.prepared:
        for words in prepared.exclude_words:
            assert not words & {"cut", "new"}, prepared.name  # "cuts internet", "new ban"
            if "attacks" in prepared.name:
                assert "launch" not in words, prepared.name  # "militants launch attack"


STILL_OFF = article(
    "Mobile internet stays off in Quetta for sixth day; restoration promised for Monday",
    "Mobile internet remained suspended in Quetta and three nearby districts for a sixth day "
    "on Saturday, officials said, after the provincial government extended its order.",
    "The home department said services would be restored on Monday if the security situation "
    "allowed.",
)
RESTORED_UNDER_DEAL = article(
    "Traders call off Quetta strike; mobile internet restored under deal with officials",
    "Traders in Quetta ended their week-long strike on Saturday after the provincial "
    "government agreed to their demands, and mobile internet services came back in the city.",
    "Shops reopened in the afternoon and traffic returned to the main bazaars.",
)


def test_an_exclude_word_counts_in_the_headline_clause_about_the_subject(matcher):
    """A restoration promised beside a shutdown that goes on is no restoration."""
    [(_, still_off), (_, restored)] = asyncio.run(
        matcher.match_articles([STILL_OFF, RESTORED_UNDER_DEAL])
    )
    assert {m.watch: m for m in still_off}["pakistan-internet-shutdowns"].excluded_by is None
    after_deal = {m.watch: m for m in restored}["pakistan-internet-shutdowns"]
    assert not after_deal.matched and after_deal.excluded_by is not None


@pytest.mark.xfail(
    strict=True,
    reason="issue 16, a known miss since 2026-12-08: the detectors retrained on 2,347 items "
    "read this shutdown that goes on 0.32 against the threshold 0.375 (it fired before)",
)
def test_a_shutdown_that_goes_on_while_restoration_is_promised_fires(matcher):
    [(_, still_off)] = asyncio.run(matcher.match_articles([STILL_OFF]))
    assert {m.watch: m for m in still_off}["pakistan-internet-shutdowns"].matched


def test_topical_stems_keep_the_clauses_that_name_the_subject():
    clauses = clause_stems("Mobile internet stays off; restoration promised for Monday")
    assert topical_stems(clauses, frozenset({"internet", "mobil"})) == {"mobil", "internet", "stay"}
    assert topical_stems(clauses, frozenset({"curfew"})) >= {"restor", "internet"}
    assert clause_stems("Blast in Quetta - police") == (
        frozenset({"blast", "quetta"}),
        frozenset({"polic"}),
    )


def test_an_editorial_reports_no_new_event_unless_the_watch_wants_opinion(matcher):
    [(encoding, matches)] = asyncio.run(matcher.match_articles([EDITORIAL]))
    assert encoding.opinion
    attacks = {m.watch: m for m in matches}["balochistan-attacks"]
    assert not attacks.matched and attacks.excluded_by == "opinion piece"
    assert attacks.score >= attacks.threshold  # on topic, and still no alert

    wants = watch(**{**vars(example_watches()[0]), "include_opinion": True})
    opinionated = Matcher([wants], matcher.encoder, matcher.gazetteer)
    opinionated.prepare()
    [again] = opinionated.match(EDITORIAL, encoding)
    assert again.matched, again.reason


def test_a_rule_switched_off_changes_the_decision_on_the_same_encoding(decided, matcher):
    """benchmarks/ablation.py decides encoded articles again with one rule off."""
    encoding, matches = decided[ZAHEDAN.title]
    again = matcher.match(ZAHEDAN, matcher.reread(ZAHEDAN, encoding))
    assert {m.watch: m for m in again} == matches  # the shipped rules: the same decisions
    ungated = matcher.with_rules(replace(SHIPPED, region_gate=False))
    [attacks] = [m for m in ungated.match(ZAHEDAN, encoding) if m.watch == "balochistan-attacks"]
    assert attacks.matched and not matches["balochistan-attacks"].matched, attacks.reason


def test_a_headline_label_switched_off_no_longer_marks_an_editorial(matcher):
    [(encoding, matches)] = asyncio.run(matcher.match_articles([EDITORIAL]))
    unlabelled = matcher.with_rules(replace(SHIPPED, opinion_labels=False))
    read = unlabelled.reread(EDITORIAL, encoding)
    assert encoding.opinion and not read.opinion
    attacks = {m.watch: m for m in unlabelled.match(EDITORIAL, read)}["balochistan-attacks"]
    assert attacks.excluded_by is None and "opinion" not in attacks.reason, attacks.reason
    assert {m.watch: m for m in matches}["balochistan-attacks"].excluded_by == "opinion piece"


def test_explain_lists_the_best_passages_with_their_similarity(decided):
    encoding, matches = decided[SEED.title]
    shutdowns = matches["pakistan-internet-shutdowns"]
    indexes = [i for i, _ in shutdowns.top_passages]
    similarities = [s for _, s in shutdowns.top_passages]
    assert len(indexes) == 3 and similarities == sorted(similarities, reverse=True)
    assert any("internet" in encoding.passages[i] for i in indexes)


def test_a_lead_that_names_only_the_country_lets_the_body_say_where(matcher):
    vague = article(
        "Series of coordinated attacks on police and rail track kills 33 in southwest Pakistan",
        "Gunmen launched simultaneous attacks on police posts, highways and a railway bridge "
        "overnight in southwest Pakistan, officials said on Monday.",
        "The assaults hit Mastung, Kalat and Bolan, where militants blew up the track.",
    )
    [(_, matches)] = asyncio.run(matcher.match_articles([vague]))
    attacks = {m.watch: m for m in matches}["balochistan-attacks"]
    assert attacks.regions == ["Balochistan"], attacks.reason
    assert "Mastung" in attacks.places


def test_a_watch_on_a_region_group_fires_anywhere_inside_it():
    sahel = watch(
        name="sahel-attacks",
        topic="militant attack",
        description="Jihadist militants attack soldiers, police or villagers.",
        regions=["Sahel"],
    )
    m = Matcher([sahel], Encoder(), Gazetteer.load())
    m.prepare()
    attack = "Jihadist gunmen on motorbikes attacked an army post near {town}, killing 14 soldiers."
    mali = article("Militants attack army post in Mali", attack.format(town="Menaka, Mali"))
    niger = article("Militants attack army post in Niger", attack.format(town="Tillaberi, Niger"))
    nigeria = article("Militants attack army post in Nigeria", attack.format(town="Maiduguri"))
    decided = asyncio.run(m.match_articles([mali, niger, nigeria]))
    outcomes = [matches[0] for _, matches in decided]
    assert [o.matched for o in outcomes] == [True, True, False], [o.reason for o in outcomes]
    assert outcomes[0].regions == ["Sahel"] and "in Sahel via Mali, Menaka" in outcomes[0].reason
    assert outcomes[2].reason == "no place inside Sahel (found: Nigeria; Maiduguri (Borno, NG))"
    m.close()
