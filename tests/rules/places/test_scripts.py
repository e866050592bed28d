"""Places written in other scripts: Urdu, Hindi, Arabic, Persian, Pashto, Russian, Ukrainian.

Real forms as the press of each language writes them are found and resolved to the right
country and province; frequent words of each language are not places; Latin-script text is
read as before.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirewatch.models import PlaceHit
from wirewatch.rules.places import Gazetteer
from wirewatch.rules.places.script_finder import find as find_in_scripts
from wirewatch.rules.places.scripts import (
    arabic_language,
    oblique_stems,
    script_fold,
    stem_key,
)
from wirewatch.rules.places.sources import data_lines


def where(hits: list[PlaceHit]) -> dict[str, tuple[str, str | None]]:
    """Resolved name -> (country, admin1)."""
    return {h.resolved: (h.country, h.admin1) for h in hits}


# ---- folding and stems -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spellings", "why"),
    [
        (["کوئٹہ", "کویٹہ", "کوئٹة"], "Urdu heh goal, yeh with hamza, teh marbuta"),
        (["كابل", "کابل", "کابُل", "کـابل"], "Arabic kaf, harakat, tatweel"),
        (["کراچي", "کراچی", "کراچى"], "Arabic yeh, Farsi yeh, alef maksura"),
        (["درۂ بولان", "دره بولان", "درهٔ بولان"], "heh with hamza above, hamza above"),
        (["بین‌المللی", "بینالمللی"], "zero-width non-joiner"),
        (["ننګرهار", "ننگرهار"], "Pashto gaf"),
        (["آزاد", "ازاد"], "alef with madda"),
        (["Орёл", "Орел", "ОРЁЛ"], "Cyrillic case, yo"),
        (["ज़ाहेदान", "जाहेदान"], "Devanagari nukta (precomposed and combining)"),
        (["पन्जाब", "पंजाब"], "a nasal with a virama is anusvara"),
        (["पाँच", "पांच"], "candrabindu is anusvara"),
    ],
)
def test_spellings_of_one_name_fold_alike(spellings, why):
    assert len({script_fold(s) for s in spellings}) == 1, why


def test_folding_keeps_letters_that_are_letters_of_their_own():
    assert script_fold("Київ") != script_fold("Киів")  # ї is no і with a mark
    assert script_fold("Пермский") != script_fold("Пермскии")
    assert script_fold("क्वेटा") != script_fold("कवेटा")  # the virama makes the conjunct


@pytest.mark.parametrize(
    "forms",
    [
        ["Махачкала", "Махачкале", "Махачкалы", "Махачкалу", "Махачкалой"],
        ["Дагестан", "Дагестане", "Дагестана", "Дагестаном"],
        ["Россия", "России", "Россию", "Россией"],
        ["Москва", "Москве", "Москвы", "Москву", "Москвой"],
        ["Чечня", "Чечне", "Чечни"],
        ["Пермь", "Перми"],
        ["Волгоградская область", "Волгоградской области", "Волгоградскую область"],
        ["Пермский край", "Пермском крае", "Пермского края"],
        ["Северный Кавказ", "Северном Кавказе", "Северного Кавказа"],
        ["Україна", "Україні", "України", "Україну"],
        ["Харківська область", "Харківській області", "Харківської області"],
        ["Волгоградська область", "Волгоградской области"],  # Ukrainian and Russian
    ],
)
def test_inflected_cyrillic_names_share_a_stem(forms):
    assert len({stem_key(script_fold(f)) for f in forms}) == 1, forms


def test_ukrainian_names_whose_vowel_changes_when_inflected():
    for name, inflected in (("Харків", "Харкові"), ("Львів", "Львова"), ("Київ", "Києві")):
        assert stem_key(script_fold(inflected)) in {
            stem_key(k) for k in oblique_stems(script_fold(name))
        }, name
    assert stem_key(script_fold("Києві")) == stem_key(script_fold("Киеве"))  # and Russian's


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("کوئٹہ میں دھماکہ، بلوچستان", "ur"),
        ("انفجار در زاهدان، سیستان و بلوچستان", "fa"),
        ("د پېښور پر پوځي ښوونځي برید", "ps"),
        ("انفجار في بغداد والموصل بالعراق", "ar"),
    ],
)
def test_the_language_of_an_arabic_script_text_by_its_letters(text, language):
    assert arabic_language(text) == language


# ---- real forms, each script -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (  # Urdu: Quetta, Balochistan
            "کوئٹہ میں دھماکہ، بلوچستان",
            "",
            {"Quetta": ("PK", "Balochistan"), "Balochistan": ("PK", "Balochistan")},
        ),
        (  # Urdu: Peshawar, Khyber Pakhtunkhwa; Karachi
            "پشاور پولیس لائنز مسجد میں دھماکہ",
            "خیبر پختونخوا کے دارالحکومت میں دھماکے کے بعد کراچی میں بھی سکیورٹی سخت کر دی گئی۔",
            {
                "Peshawar": ("PK", "Khyber Pakhtunkhwa"),
                "Khyber Pakhtunkhwa": ("PK", "Khyber Pakhtunkhwa"),
                "Karachi": ("PK", "Sindh"),
            },
        ),
        (  # Hindi: Balochistan's Quetta
            "बलूचिस्तान के क्वेटा में हमला",
            "",
            {"Balochistan": ("PK", "Balochistan"), "Quetta": ("PK", "Balochistan")},
        ),
        (  # Hindi: Chhattisgarh; Srinagar in Jammu and Kashmir
            "छत्तीसगढ़ में नक्सली हमला",
            "श्रीनगर में इंटरनेट सेवा बंद।",
            {
                "Chhattisgarh": ("IN", "Chhattisgarh"),
                "Srinagar": ("IN", "Jammu and Kashmir"),
            },
        ),
        (  # Arabic: Baghdad, Mosul behind "and", Iraq behind "in"
            "انفجار في بغداد والموصل بالعراق",
            "",
            {"Baghdad": ("IQ", "Baghdad"), "Mosul": ("IQ", "Nineveh"), "Iraq": ("IQ", None)},
        ),
        (  # Arabic: Damascus
            "تفجير كنيسة مار إلياس في دمشق",
            "",
            {"Damascus": ("SY", "Dimashq")},
        ),
        (  # Persian: Zahedan, Sistan and Baluchestan (not Pakistan's Balochistan)
            "انفجار در زاهدان، سیستان و بلوچستان",
            "",
            {
                "Zahedan": ("IR", "Sistan and Baluchestan"),
                "Sistan and Baluchestan": ("IR", "Sistan and Baluchestan"),
            },
        ),
        (  # Persian: Kabul, Afghanistan
            "انفجار انتحاری در نزدیکی فرودگاه کابل",
            "طالبان در افغانستان گفتند",
            {"Kabul": ("AF", "Kabul"), "Afghanistan": ("AF", None)},
        ),
        (  # Pashto: Peshawar, Khyber Pakhtunkhwa
            "د پېښور پر پوځي ښوونځي برید",
            "خیبر پښتونخوا کې طالبانو برید وکړ.",
            {
                "Peshawar": ("PK", "Khyber Pakhtunkhwa"),
                "Khyber Pakhtunkhwa": ("PK", "Khyber Pakhtunkhwa"),
            },
        ),
        (  # Russian: Makhachkala (inflected), Dagestan
            "Взрыв в Махачкале, Дагестан",
            "",
            {"Makhachkala": ("RU", "Dagestan"), "Dagestan": ("RU", "Dagestan")},
        ),
        (  # Russian: an oblast, inflected
            "Стрельба в Волгоградской области",
            "В Волгограде и Дербенте усилили меры безопасности.",
            {"Volgograd": ("RU", "Volgograd"), "Derbent": ("RU", "Dagestan")},
        ),
        (  # Ukrainian: Kharkiv and Kyiv, inflected; Russia
            "У Харкові стався вибух",
            "У Києві теж пролунали вибухи, повідомили у Харківській області. Росія заперечує.",
            {
                "Kharkiv": ("UA", "Kharkivs’ka Oblast’"),
                "Kyiv City": ("UA", "Kyiv City"),
                "Russian Federation": ("RU", None),
            },
        ),
    ],
)
def test_real_forms_are_found_in_their_country_and_province(gazetteer, title, text, expected):
    found = where(gazetteer.find_places(title, text))
    for name, place in expected.items():
        assert found.get(name) == place, (name, found)


def test_the_deciding_place_is_in_the_article_s_country(gazetteer):
    hits = gazetteer.find_places(
        "پاکستان کی ایران میں دہشت گردوں کے ٹھکانوں پر جوابی کارروائی",
        "سیستان و بلوچستان کے علاقے سراوان میں کارروائی کی گئی۔",
    )
    assert hits[0].country in {"IR", "PK"}
    assert ("IR", "Sistan and Baluchestan") in {(h.country, h.admin1) for h in hits}


def test_region_names_in_other_scripts_resolve(gazetteer):
    for name, country in (("بلوچستان", "PK"), ("बलूचिस्तान", "PK"), ("Дагестан", "RU")):
        region = gazetteer.resolve_region(name)
        assert region is not None and region.kind == "admin1" and region.country == country
    assert gazetteer.resolve_region("کوئٹہ").name == "Quetta"


# ---- ambiguity: words, persons, other countries' small towns --------------------------------
def test_urdu_words_that_are_towns_elsewhere_are_not_places(gazetteer):
    # peace and order (امن, Emmen; امان, Amman), evening (شام, Syria), to say (کہنا, Khanna),
    # bomb (بم, Bam): GeoNames lists them all as names of towns or countries
    hits = gazetteer.find_places(
        "امن و امان کی صورتحال پر اجلاس",
        "شام کو وزیر نے کہا کہ بم دھماکے کے بارے میں کچھ کہنا قبل از وقت ہے۔",
    )
    assert hits == []


def test_a_word_that_is_a_country_counts_with_that_country_named(gazetteer):
    # "شام" is evening and Syria: Syria where the article names Damascus
    assert "Syria" in where(gazetteer.find_places("شام میں لڑائی", "دمشق کے قریب جھڑپیں۔"))
    assert gazetteer.find_places("شام میں لڑائی", "کل رات جھڑپیں ہوئیں۔") == []


def test_another_country_s_small_town_needs_that_country_named(gazetteer):
    # "جموں" (Jammu) in Urdu: in India, not Pakistan's own press's town
    assert gazetteer.find_places("جموں میں دھماکہ", "") == []
    found = where(gazetteer.find_places("جموں میں دھماکہ", "بھارت کے زیر انتظام کشمیر میں"))
    assert ("IN", "Jammu and Kashmir") in found.values()


def test_russian_names_of_people_are_not_towns(gazetteer):
    hits = gazetteer.find_places(
        "Президент Владимир Путин провёл совещание",
        "Дмитрий Медведев и Леонид Слуцкий выступили в Думе. Об этом сообщил Александр Бортников.",
    )
    assert not {"Vladimir", "Medvedevo", "Slutsk", "Alexandria"} & set(where(hits))


def test_a_cyrillic_word_the_article_writes_in_lower_case_is_no_place(gazetteer):
    assert gazetteer.find_places("Мир и война", "Весь мир следит за событиями.") == []


def test_weekdays_are_no_towns(gazetteer):
    # Persian Monday is Dushanbe; Arabic Thursday a town in Algeria
    assert gazetteer.find_places("دوشنبه گذشته در تهران", "")[0].resolved == "Tehran"
    assert "Dushanbe" not in where(gazetteer.find_places("دوشنبه گذشته در تهران", ""))
    assert gazetteer.find_places("اجتماع يوم الخميس", "") == []


FUNCTION_WORDS = {
    "ur": "کے میں کی اور سے کا اس کو ہے نے پر ایک کہ یہ بھی ان کر ہیں جو کیا وہ تو نہیں یا ہو"
    " گیا تھا تھے دیا کہا لیے بعد ساتھ اب جب تک گئی گئے والے",
    "hi": "के में की और का से को है एक पर ने भी यह लिए किया इस कि हैं ही जो कर नहीं हो था थे गया"
    " कहा साथ बाद तक अब जब वह वे गई",
    "ar": "في من على إلى عن أن مع هذا هذه التي الذي كان قد لا ما و ثم أو بعد قبل حتى كل بين عند"
    " وقال وأن إن لم لن وفي كما أيضا",
    "fa": "در و به از که این را با است برای آن یک تا می بر شد هم نیز اما یا بود شده کرد های ها پس"
    " وی خود گفت",
    "ps": "د په او له چې دا هم ته کې یې وو شو ده دي کړ پر سره لپاره نه خو یا وروسته باندې ورته کړي",
    "ru": "в и на не что с по это как а но из за к у от о для же так все он она они мы был было"
    " также который того этого при",
    "uk": "в у і й на не що з до як а але за від про для це так він вона вони також який його її"
    " при",
}


@pytest.mark.parametrize("language", sorted(FUNCTION_WORDS))
def test_text_of_function_words_names_no_place(gazetteer, language):
    words = FUNCTION_WORDS[language].split()
    if language in ("ru", "uk"):  # at a sentence start, capitalised: "Того же дня"
        words += [w.capitalize() for w in words]

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(st.sampled_from(words), min_size=1, max_size=40),
        st.sampled_from([" ", " ", " ", "، ", ", ", ". ", "\n\n"]),
    )
    def check(chosen: list[str], separator: str) -> None:
        text = separator.join(chosen)
        assert gazetteer.find_places(text, text) == [], text

    check()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FUNCTION_WORDS["ur"].split() + data_lines("script_words.txt"))))
def test_frequent_words_that_are_names_count_only_with_their_country(chosen):
    # "شام" (evening; Syria), "مالی" (financial; Mali), "کره" (butter; Korea), "того" (Togo)...
    # with no country named otherwise, none is a place
    text = " ".join(chosen)
    assert Gazetteer.load().find_places(text, "") == [], text


def test_every_frequent_word_listed_is_a_name_of_the_data(gazetteer):
    """Each line of data/script_words.txt changes something: it is a name the data has."""
    for word in data_lines("script_words.txt"):
        assert script_fold(word) in gazetteer.index.scripts.names, word


# ---- Latin script: read as before ------------------------------------------------------------
def test_latin_text_is_read_as_before(gazetteer):
    title = "Gunmen attack police in Quetta"
    text = (
        "QUETTA, Pakistan - Militants struck in Turbat and Panjgur, officials in Balochistan said."
    )
    before = gazetteer.find_places(title, text)
    assert {"Quetta", "Turbat", "Panjgur", "Balochistan"} <= set(where(before))
    quoted = text + "\n\nA banner read: «اور یہ بھی کہا گیا» and «и это тоже».\n"
    assert gazetteer.find_places(title, quoted) == before


def test_accented_latin_text_is_not_read_as_another_script(gazetteer):
    text = "Attentat à Niamey, au Niger; Kayseri'de patlama; ataque en Tillabéri."
    assert find_in_scripts(gazetteer.index.scripts, text) == []
