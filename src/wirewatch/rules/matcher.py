"""Decide, for every watch, whether an article matches it; see docs/matching.md.

A watch becomes reference texts (``topic: description`` and each example) and exclude
phrases. An article becomes passages (lead, headline, sentences), each with its sentence
vector and token vectors, and the places the gazetteer finds. A passage's similarity to a
watch is its similarity (rules/similarity.py) to the watch's closest reference; the score
blends the lead's with the best sentence's:
``LEAD_WEIGHT * lead + (1 - LEAD_WEIGHT) * max(lead, best sentence)``.

The decision, in order: an opinion piece never matches (unless the watch includes them); a
lead that is about an exclude phrase rather than the watch is excluded (rules/exclusions.py);
the score must reach the threshold; and a watch with regions needs a place of the article
inside one of them.

A watch **bound** to a learned event detector (rules/events.py) is decided by it instead:
the detector's probability must reach its threshold (and, for a watch whose text is far
from its type's definition, the similarity score must also reach the watch's threshold),
with the same opinion, exclusion and region gates. The detectors read the lead; when the
similarity path's evidence is a sentence past the lead that reaches the watch's threshold
and the lead reports an event of another kind, they read that sentence too (a second event
stated once; rules/verdict.py). A bound watch's
``examples`` add references to its similarity (exclusions, that sentence, a specific watch's
floor) but never match it alone: on the training part that added 46 wrong decisions.
The multilingual detectors read every article's lead; the English model reads what the
decisions use (rules/reading.py): every sentence when some watch decides by similarity, else
the lead where exclude phrases or judgements compare it (else nothing), and the sentences
past it only where the detectors' reading of the lead makes a second event plausible.

Each rule and fitted constant is a field of ``Rules`` (rules/settings.py): ``with_rules``
decides the same watches, and ``reread`` the same encoded articles, with one switched off
(benchmarks/ablation.py, docs/matching.md "What each rule adds").

Last, the team's judgements (``feedback``, see feedback/examples.py) may overturn a decision:
an article close to one judged not relevant for a watch does not match it, one close to an
article judged relevant does. The matcher only consults the hook; the feedback package keeps it
up to date.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from wirewatch import defaults
from wirewatch.models import Article, ArticleEncoding, PlaceHit, WatchMatch
from wirewatch.rules.encoder import Encoder
from wirewatch.rules.events import Binding, EventDetectors
from wirewatch.rules.exclusions import Exclusion, lead_exclusion
from wirewatch.rules.genre import is_opinion
from wirewatch.rules.leads import STORY_VECTOR_MODEL, story_vector
from wirewatch.rules.lexical import clause_stems, content_stems, stems_of_all
from wirewatch.rules.passages import lead_count, split_passages
from wirewatch.rules.places import Gazetteer, Region, WatchPlace
from wirewatch.rules.prepared import PreparedWatch
from wirewatch.rules.reading import (
    EnglishReading,
    english_reading,
    latin_script,
    lead_passages,
    needs_every_sentence,
    needs_lead,
)
from wirewatch.rules.region_gate import article_places, no_place_reason, region_evidence
from wirewatch.rules.settings import SHIPPED, Rules
from wirewatch.rules.similarity import ReferenceSet, distinguishing_words, similarities
from wirewatch.rules.verdict import SentenceReadings, Verdict, detector_verdict, trim

TOP_PASSAGES = 3  # passages kept per decision for `explain`
OPINION = "opinion piece"


class FeedbackHook(Protocol):
    """What the matcher asks the team's judgements (feedback/examples.py)."""

    def adjust(
        self, watch: PreparedWatch, encoding: ArticleEncoding, match: WatchMatch
    ) -> WatchMatch: ...


@dataclass
class Scored:
    """How one watch scored one article, before the region decision."""

    score: float
    best: int  # the evidence: index of the best passage (the lead when the headline is best)
    passage_scores: np.ndarray  # similarity of every passage to the watch
    exclusion: Exclusion | None  # set when the lead is about an exclude phrase


def reference_texts(watch: Any) -> list[str]:
    """What a watch is compared with: 'topic: description', then each example."""
    topic = (getattr(watch, "topic", "") or "").strip()
    description = (getattr(watch, "description", "") or "").strip()
    main = f"{topic}: {description}" if topic and description else topic or description
    examples = [e.strip() for e in getattr(watch, "examples", None) or [] if e.strip()]
    return [t for t in [main, *examples] if t] or [getattr(watch, "name", "")]


def blend(lead: float, best_sentence: float, weight: float = defaults.LEAD_WEIGHT) -> float:
    """The article's score from its lead's and its best sentence's similarity."""
    return weight * lead + (1 - weight) * max(lead, best_sentence)


class Matcher:
    """Encodes articles and decides every watch on them."""

    def __init__(
        self,
        watches: Sequence[Any],
        encoder: Encoder,
        gazetteer: Gazetteer,
        detectors: EventDetectors | None = None,
        similarity_floor: float | None = None,
        every_sentence: bool | None = None,
        feedback: FeedbackHook | None = None,
        rules: Rules = SHIPPED,
    ) -> None:
        self.watches = list(watches)
        self.rules = rules  # the rules and constants it applies (benchmarks/ablation.py)
        self.feedback = feedback  # judged examples; swapped whole when judgements change
        self.encoder = encoder
        self.gazetteer = gazetteer
        self.detectors = detectors  # loaded in prepare() when a watch may be bound
        # a specific bound watch's similarity floor: its own threshold unless set (benchmarks)
        self.similarity_floor = similarity_floor
        self.every_sentence = every_sentence  # None: as the watches need (``reads_sentences``)
        self._sentence_readings: SentenceReadings | None = None  # one sentence at a time
        self.prepared: list[PreparedWatch] = []
        self._all_references: ReferenceSet | None = None  # every watch's, for one comparison
        self._columns: dict[str, tuple[slice, slice]] = {}  # watch -> references, excludes
        self._ready = False
        self._lock = threading.Lock()

    # ---- set-up ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Load the model and encode every watch (slow, blocking: run it off the event loop)."""
        with self._lock:
            if self._ready:
                return
            self.encoder.load()
            if self.detectors is None and any(
                (getattr(w, "event", None) or defaults.WATCH_EVENT) != "none" for w in self.watches
            ):
                self.detectors = EventDetectors.load()
            self.prepared = [self._prepare_watch(w) for w in self.watches]
            self._stack_references()
            self._ready = True

    def _stack_references(self) -> None:
        """One reference set for all watches, and where each watch's columns are in it."""
        sets, start = [], 0
        for watch in self.prepared:
            refs = len(watch.references.texts)
            excludes = len(watch.excludes.texts) if watch.excludes else 0
            self._columns[watch.name] = (
                slice(start, start + refs),
                slice(start + refs, start + refs + excludes),
            )
            sets += [watch.references] + ([watch.excludes] if watch.excludes else [])
            start += refs + excludes
        self._all_references = ReferenceSet.concat(sets) if sets else None

    def _prepare_watch(self, watch: Any) -> PreparedWatch:
        references = reference_texts(watch)
        excludes = [e.strip() for e in getattr(watch, "exclude", None) or [] if e.strip()]
        threshold = getattr(watch, "threshold", None)
        reference_set = self._reference_set(references)
        reference_stems = stems_of_all(references)
        words = self._exclude_words(excludes, reference_set, reference_stems, self.rules)
        binding = self.detectors.bind(watch) if self.detectors is not None else Binding(None, {})
        return PreparedWatch(
            name=watch.name,
            threshold=defaults.WATCH_THRESHOLD if threshold is None else float(threshold),
            exclude_threshold=getattr(watch, "exclude_threshold", None),
            include_opinion=bool(getattr(watch, "include_opinion", defaults.WATCH_INCLUDE_OPINION)),
            references=reference_set,
            excludes=self._reference_set(excludes) if excludes else None,
            exclude_words=[frozenset(w) for w in words],
            exclude_word_forms=[tuple(w.values()) for w in words],
            reference_stems=reference_stems,
            regions=[self._region(name) for name in getattr(watch, "regions", None) or []],
            places=self._watch_places(watch),
            event=binding.event,
            event_probabilities=dict(binding.probabilities),
            specific=binding.specific,
        )

    def _exclude_words(
        self,
        excludes: list[str],
        references: ReferenceSet,
        reference_stems: frozenset[str],
        rules: Rules,
    ) -> list[dict[str, str]]:
        """Each exclude phrase's distinguishing words (rules/similarity.py)."""
        encoded = [self.encoder.encode_with_tokens([e], token_strings=True) for e in excludes]
        return [distinguishing_words(e, references, reference_stems, rules) for e in encoded]

    def with_rules(self, rules: Rules) -> Matcher:
        """The same watches decided by other ``rules`` (benchmarks/ablation.py): what was
        prepared is shared; only the exclude phrases' distinguishing words are found again."""
        self.prepare()
        other = Matcher(
            self.watches,
            self.encoder,
            self.gazetteer,
            self.detectors,
            self.similarity_floor,
            self.every_sentence,
            self.feedback,
            rules,
        )
        other.prepared = [self._reworded(w, rules) for w in self.prepared]
        other._all_references, other._columns = self._all_references, self._columns
        if self.detectors is not None:  # the detectors' readings of single sentences
            self._sentence_readings = self._sentence_readings or SentenceReadings(self.detectors)
            other._sentence_readings = self._sentence_readings
        other._ready = True
        return other

    def _reworded(self, watch: PreparedWatch, rules: Rules) -> PreparedWatch:
        same = (rules.common_words, rules.distinct_word_similarity) == (
            self.rules.common_words,
            self.rules.distinct_word_similarity,
        )
        if watch.excludes is None or same:
            return watch
        excludes = watch.excludes.texts
        words = self._exclude_words(excludes, watch.references, watch.reference_stems, rules)
        return replace(
            watch,
            exclude_words=[frozenset(w) for w in words],
            exclude_word_forms=[tuple(w.values()) for w in words],
        )

    @property
    def reads_events(self) -> bool:
        """Whether any watch is bound to a detector (then every article is read by it)."""
        return self.detectors is not None and any(p.event for p in self.prepared)

    @property
    def reads_sentences(self) -> bool:
        """Whether the English model reads every sentence of every article: when some watch
        decides by similarity (``PreparedWatch.by_similarity``) or no watch is bound, or when
        set (``every_sentence=True``). Otherwise it reads the lead, and the sentences past it
        as ``english_reading`` (rules/reading.py) decides per article; ``every_sentence=False``
        (a benchmark's option) reads only the lead and the detectors' sentences
        (``lead_passages``), which misses the seed case's second event stated once, deep in
        the text."""
        if self.every_sentence is not None:
            return self.every_sentence
        return not self.reads_events or needs_every_sentence(self.prepared)

    def _reference_set(self, texts: list[str]) -> ReferenceSet:
        encoded = self.encoder.encode_with_tokens(texts, token_strings=True)
        return ReferenceSet.from_encoded(texts, encoded)

    def _region(self, name: str) -> Region:
        region = self.gazetteer.resolve_region(name)
        if region is None:
            raise ValueError(self.gazetteer.unknown_region(name))
        return region

    def _watch_places(self, watch: Any) -> list[WatchPlace]:
        """A watch's `places`: each a name (or {name, region}); the region defaults to the
        watch's first."""
        regions = getattr(watch, "regions", None) or []
        places = []
        for place in getattr(watch, "places", None) or []:
            name = place if isinstance(place, str) else place.name
            region = None if isinstance(place, str) else getattr(place, "region", None)
            if region is None and not regions:
                raise ValueError(f"place {name!r}: the watch has no regions")
            inside = self._region(region or regions[0])
            if inside.kind == "group":
                raise ValueError(
                    f"place {name!r}: {inside.name} is a group of regions; name the country or"
                    " division the place is in"
                )
            places.append(WatchPlace(name, inside))
        return places

    def close(self) -> None:
        self.encoder.close()
        if self.detectors is not None:
            self.detectors.close()

    # ---- encoding -------------------------------------------------------------------------
    def analyse(self, article: Article) -> tuple[list[str], int, list[PlaceHit]]:
        """Passages, how many of them are the lead, and places of one article (no model)."""
        passages = split_passages(article.title, article.text)
        places = self.gazetteer.find_places(article.title, article.text)
        return passages, lead_count(article.title, passages), places

    async def encode_articles(self, articles: Sequence[Article]) -> list[ArticleEncoding]:
        """Passages, vectors and places of each article. The English model first reads what
        every decision needs (``_first_reading``) beside the detectors' pass, then the rest of
        the articles whose detectors' reading asks for it (``english_reading``)."""
        if not self._ready:
            await asyncio.to_thread(self.prepare)
        analysed = await asyncio.to_thread(lambda: [self.analyse(a) for a in articles])
        first = [self._first_reading(p, n) for p, n, _ in analysed]
        texts = [p[: r.passages] for (p, _, _), r in zip(analysed, first, strict=True)]
        events: list[dict[str, float] | None] = [None] * len(articles)
        features: Any = [None] * len(articles)
        kinds: Any = [None] * len(articles)
        what: list[str] = [""] * len(articles)
        if self.reads_events:  # the two models side by side, each in its own worker thread
            encoded, features = await asyncio.gather(
                self.encoder.encode_groups_async(texts),
                self.detectors.article_features(articles),  # type: ignore[union-attr]
            )
            events = self.detectors.probabilities(features)  # type: ignore[union-attr,assignment]
            kinds = self.detectors.head.probabilities(features)  # type: ignore[union-attr]
            what = self.detectors.what_was_read(features)  # type: ignore[union-attr]
        else:
            encoded = await self.encoder.encode_groups_async(texts)
        readings = [
            self.reading(a, p, n, e) if r.passages < len(p) else r
            for a, (p, n, _), r, e in zip(articles, analysed, first, events, strict=True)
        ]
        rest = zip(analysed, first, readings, strict=True)
        more = await self.encoder.encode_groups_async(
            [p[r.passages : f.passages] for (p, _, _), r, f in rest]
        )
        return [
            ArticleEncoding(
                passages,
                np.concatenate([vectors, more_vectors]),
                places,
                leads,
                tokens=tokens + more_tokens,
                headline_clauses=clause_stems(article.title),
                opening_stems=content_stems(passages[leads] if len(passages) > leads else ""),
                opinion=is_opinion(article.title, article.url, self.rules),
                events=event_probabilities,
                event_features=read,
                event_kinds=kind,
                event_reading=read_by,
                english_reading=reading.why,
                story_vector=None if read is None else story_vector(read),
                story_model=STORY_VECTOR_MODEL,
                english_model=self.encoder.name,
            )
            for article, (passages, leads, places), event_probabilities, read, kind, (
                vectors,
                tokens,
            ), (more_vectors, more_tokens), reading, read_by in zip(
                articles,
                analysed,
                events,
                features,
                kinds,
                encoded,
                more,
                readings,
                what,
                strict=True,
            )
        ]

    def _first_reading(self, passages: list[str], leads: int) -> EnglishReading:
        """What the English model reads of an article before the detectors have read it."""
        if self.reads_sentences:
            why = "set" if self.every_sentence else "a watch decides by similarity"
            return EnglishReading(len(passages), f"every sentence ({why})")
        if self.every_sentence is False:
            kept = len(lead_passages(passages, leads))
            return EnglishReading(kept, "the lead and the detectors' sentences (benchmark)")
        if needs_lead(self.prepared, bool(self.feedback)):
            return EnglishReading(min(leads, len(passages)), "the lead only")
        return EnglishReading(0, "nothing")

    def reading(
        self, article: Article, passages: list[str], leads: int, events: dict[str, float] | None
    ) -> EnglishReading:
        """What it reads once the detectors have read the lead (rules/reading.py)."""
        first = self._first_reading(passages, leads)
        if (
            first.passages >= len(passages)
            or self.every_sentence is False
            or self.detectors is None
        ):
            return first
        thresholds = {label: self.detectors.threshold(label) for label in self.detectors.detectors}
        opinion = is_opinion(article.title, article.url, self.rules)
        latin = latin_script(article.text) or not self.rules.latin_only
        lead = needs_lead(self.prepared, bool(self.feedback))
        screen = self.rules.sentence_screen
        other_kind = self.rules.second_event_other_kind
        return english_reading(
            self.prepared,
            len(passages),
            leads,
            events,
            thresholds,
            opinion,
            latin,
            screen,
            lead,
            other_kind,
        )

    def reread(self, article: Article, full: ArticleEncoding) -> ArticleEncoding:
        """The encoding this matcher makes of ``article`` from ``full``, one whose every
        passage the English model read: what it reads of it, and its genre by its rules
        (benchmarks/ablation.py encodes once and decides under several rules)."""
        read = self.reading(article, full.passages, full.leads, full.events)
        return replace(
            full,
            vectors=full.vectors[: read.passages],
            tokens=full.tokens[: read.passages],
            opinion=is_opinion(article.title, article.url, self.rules),
            english_reading=read.why,
        )

    async def match_articles(
        self, articles: Sequence[Article]
    ) -> list[tuple[ArticleEncoding, list[WatchMatch]]]:
        encodings = await self.encode_articles(articles)
        pairs = list(zip(articles, encodings, strict=True))
        return await asyncio.to_thread(lambda: [(enc, self.match(a, enc)) for a, enc in pairs])

    # ---- deciding -------------------------------------------------------------------------
    def match(
        self, article: Article, encoding: ArticleEncoding, table: np.ndarray | None = None
    ) -> list[WatchMatch]:
        """One WatchMatch per watch, matched or not, with its reason (``table``: the
        ``similarity_table`` of ``encoding`` when already computed)."""
        if not self._ready:
            self.prepare()
        if self._all_references is None:
            return []
        table = self.similarity_table(encoding) if table is None else table
        decided = [(w, self._decide(w, encoding, table)) for w in self.prepared]
        feedback = self.feedback  # one snapshot for the whole article
        if feedback is None:
            return [match for _, match in decided]
        return [feedback.adjust(w, encoding, match) for w, match in decided]

    def similarity_table(self, encoding: ArticleEncoding) -> np.ndarray:
        """The similarity of every passage the English model read to every reference."""
        assert self._all_references is not None
        if not len(encoding.vectors):
            return np.zeros((0, len(self._all_references.texts)), dtype=np.float32)
        weight = self.rules.token_weight
        return similarities(self._all_references, encoding.vectors, encoding.tokens, weight)

    def score(self, watch: PreparedWatch, encoding: ArticleEncoding, table: np.ndarray) -> Scored:
        """Similarity of every passage, the blended score, and any exclusion of the lead.

        ``table`` holds the similarity of every passage to every reference of every watch
        (none when the English model read nothing: no similarity, no exclusion).
        """
        if not len(table):
            return Scored(0.0, 0, np.zeros(0, dtype=np.float32), None)
        reference_columns, exclude_columns = self._columns[watch.name]
        passage_scores = table[:, reference_columns].max(axis=1)
        leads = encoding.leads
        sentences = passage_scores[leads:].copy()
        exclusion = None
        if watch.excludes is not None:
            excluded = table[:, exclude_columns]
            exclusion = lead_exclusion(watch, encoding, passage_scores, excluded, self.rules)
            # A sentence counts for the watch only when it is closer to the watch than to
            # every exclude phrase: "internet was restored" is no evidence of a shutdown.
            if self.rules.exclude_sentences and len(sentences):
                sentences[passage_scores[leads:] <= excluded[leads:].max(axis=1)] = 0.0
        lead = float(passage_scores[:leads].max())
        best_sentence = float(sentences.max()) if len(sentences) else 0.0
        best = leads + int(np.argmax(sentences)) if len(sentences) and best_sentence > lead else 0
        score = blend(lead, best_sentence, self.rules.lead_weight)
        return Scored(score, best, passage_scores, exclusion)

    def _decide(
        self, watch: PreparedWatch, encoding: ArticleEncoding, table: np.ndarray
    ) -> WatchMatch:
        scored = self.score(watch, encoding, table)
        order = np.argsort(-scored.passage_scores)[:TOP_PASSAGES]
        result = WatchMatch(
            watch=watch.name,
            matched=False,
            score=round(scored.score, 4),
            threshold=watch.threshold,
            evidence=trim(encoding.passages[scored.best]),
            top_passages=[(int(i), round(float(scored.passage_scores[i]), 4)) for i in order],
        )
        places = article_places(watch, encoding)
        regions, inside = region_evidence(watch.regions, places, self.rules)
        result.regions, result.places = regions, inside
        detector = self._verdict(watch, encoding, scored)
        if detector is not None:
            result.score, result.threshold = detector.probability, detector.threshold
        if encoding.opinion and not watch.include_opinion:
            result.excluded_by = OPINION
            result.reason = (
                f"excluded: an opinion piece reports no new event (score {result.score:.2f})"
            )
        elif scored.exclusion is not None:
            result.excluded_by = scored.exclusion.phrase
            result.reason = f"excluded: {scored.exclusion.describe()}"
        elif detector is not None and not detector.fires:
            result.reason = detector.reason
        elif detector is None and scored.score < watch.threshold:
            result.reason = f"score {scored.score:.2f} < {watch.threshold:.2f}"
        elif self.rules.region_gate and watch.regions and not inside:
            result.reason = no_place_reason(watch.regions, places, self.rules)
        else:
            result.matched = True
            where = f"; in {', '.join(regions)} via {', '.join(inside)}" if watch.regions else ""
            if detector is None:
                result.reason = f"score {scored.score:.2f} ≥ {watch.threshold:.2f}{where}"
            else:
                result.reason = f"{detector.reason}{where}"
        return result

    def _verdict(
        self, watch: PreparedWatch, encoding: ArticleEncoding, scored: Scored
    ) -> Verdict | None:
        """A bound watch's detector verdict (rules/verdict.py); None when it has none."""
        if self.detectors is None:
            return None
        if self._sentence_readings is None:
            self._sentence_readings = SentenceReadings(self.detectors)
        return detector_verdict(
            watch,
            encoding,
            scored.score,
            scored.best,
            self._sentence_readings,
            self.similarity_floor,
            self.rules,
            scored.passage_scores,
        )

    def similarity_scores(self, encoding: ArticleEncoding) -> dict[str, float]:
        """Every watch's similarity score on one article, whatever decides it (benchmarks)."""
        if self._all_references is None:
            return {}
        table = self.similarity_table(encoding)
        return {w.name: self.score(w, encoding, table).score for w in self.prepared}
