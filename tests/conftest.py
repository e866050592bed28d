"""Shared fixtures: each lives in tests/fixtures/ and is exposed here once."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tests.fixtures.outlets import *  # noqa: F403
from tests.fixtures.postgres import *  # noqa: F403
from tests.fixtures.slack_api import *  # noqa: F403
from tests.fixtures.smtp import *  # noqa: F403
