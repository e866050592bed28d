"""A watch as the matcher decides it: reference vectors, exclude phrases, regions, binding."""

from __future__ import annotations

from dataclasses import dataclass, field

from wirewatch.rules.places import Region, WatchPlace
from wirewatch.rules.similarity import ReferenceSet


@dataclass
class PreparedWatch:
    """A watch turned into reference vectors and resolved regions."""

    name: str
    threshold: float
    exclude_threshold: float | None
    include_opinion: bool
    references: ReferenceSet
    excludes: ReferenceSet | None = None
    exclude_words: list[frozenset[str]] = field(default_factory=list)  # per exclude phrase
    exclude_word_forms: list[tuple[str, ...]] = field(default_factory=list)  # ... as written
    reference_stems: frozenset[str] = frozenset()  # stems of topic, description, examples
    regions: list[Region] = field(default_factory=list)
    places: list[WatchPlace] = field(default_factory=list)  # the watch's own names (`places`)
    event: str | None = None  # the event type whose detector decides it (None: similarity)
    event_probabilities: dict[str, float] = field(default_factory=dict)  # of its own text
    specific: bool = False  # its text is far from its type's definition: similarity must agree

    @property
    def by_similarity(self) -> bool:
        """Whether the similarity of every sentence may decide it: an unbound watch, or a
        specific one (the similarity must agree)."""
        return self.event is None or self.specific
