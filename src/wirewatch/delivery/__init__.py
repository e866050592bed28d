"""The delivery stage: the outbox worker (worker.py), email digests (digest.py), and the one
retry and dead-letter rule both follow (retry.py)."""
