"""Fingerprints of article texts: wire copies and light edits share most of a MinHash."""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash

FINGERPRINT_PERMUTATIONS = 64
FINGERPRINT_SCHEME = "affine32"  # stored sketches are uint32; a scheme change needs a migration
SHINGLE_WORDS = 4
_WORD = re.compile(r"\w+")


def fingerprint(text: str) -> MinHash:
    """MinHash of the text's word shingles: near-identical copies share most of it."""
    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(1, len(words) - 3))}
    sketch = MinHash(num_perm=FINGERPRINT_PERMUTATIONS, scheme=FINGERPRINT_SCHEME)
    sketch.update_batch([s.encode() for s in shingles])
    return sketch


def copy_similarity(sketch: MinHash, stored: list[bytes]) -> float:
    """The highest estimated Jaccard between ``sketch`` and stored fingerprints of one scheme.

    The estimate is the share of equal hash values, as ``MinHash.jaccard`` computes it, read
    straight from the stored bytes (rebuilding a MinHash per member costs 30 times more).
    """
    values = sketch.hashvalues.astype(np.uint32)
    rows = [np.frombuffer(blob, dtype=np.uint32) for blob in stored]
    rows = [row for row in rows if row.shape == values.shape]
    return float((np.stack(rows) == values).mean(axis=1).max()) if rows else 0.0
