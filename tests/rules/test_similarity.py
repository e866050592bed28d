"""Late interaction and distinguishing words with the real bundled model."""

from __future__ import annotations

import numpy as np
import pytest

from wirewatch.rules.encoder import Encoder
from wirewatch.rules.lexical import content_stems, stems_of_all
from wirewatch.rules.similarity import (
    ReferenceSet,
    distinguishing_words,
    late_interaction,
    similarities,
)

SHUTDOWN = ["internet shutdown: Authorities suspend or block mobile internet and social media."]


@pytest.fixture(scope="module")
def encoder():
    encoder = Encoder()
    yield encoder
    encoder.close()


def references(encoder: Encoder, texts: list[str]) -> ReferenceSet:
    return ReferenceSet.from_encoded(texts, encoder.encode_with_tokens(texts, token_strings=True))


def test_reference_tokens_leave_out_stop_words_and_punctuation(encoder):
    refs = references(encoder, ["The internet was cut, and the phones too."])
    assert len(refs.query_tokens) == 3  # internet, cut, phones
    assert refs.query_starts.tolist() == [0]


def test_a_passage_that_contains_every_word_scores_highest(encoder):
    refs = references(encoder, SHUTDOWN)
    passages = [
        "Authorities suspend and block mobile internet and social media in the province.",
        "Authorities in the province held a meeting about the budget.",
    ]
    encoded = encoder.encode_with_tokens(passages)
    late = late_interaction(refs, encoded.tokens)
    assert late.shape == (2, 1)
    assert late[0, 0] > late[1, 0] + 0.2
    blended = similarities(refs, encoded.vectors, encoded.tokens)
    cosine = encoded.vectors @ refs.vectors.T
    assert np.allclose(blended, 0.5 * cosine + 0.5 * late)


def test_late_interaction_of_a_text_with_itself_is_one(encoder):
    text = "Mobile data suspended in three districts"
    refs = references(encoder, [text])
    encoded = encoder.encode_with_tokens([text])
    assert late_interaction(refs, encoded.tokens)[0, 0] == pytest.approx(1.0, abs=1e-3)


def test_words_the_watch_lacks_distinguish_an_exclude_phrase(encoder):
    refs = references(encoder, SHUTDOWN)
    phrase = encoder.encode_with_tokens(
        ["internet and mobile services restored after the shutdown was lifted"], token_strings=True
    )
    words = distinguishing_words(phrase, refs, stems_of_all(SHUTDOWN))
    assert {"restor", "lift"} <= words.keys()
    assert {"restored", "lifted"} <= set(words.values())  # as written, for explain
    assert not words.keys() & content_stems("internet mobile shutdown")  # the watch has these
