"""Matching rules: sentence encoder, offline gazetteer, per-watch decisions and explanations.

See docs/matching.md for how an article is scored against a watch.
"""

from wirewatch.rules.encoder import Encoder
from wirewatch.rules.gazetteer import Gazetteer, Region
from wirewatch.rules.matcher import Matcher

__all__ = ["Encoder", "Gazetteer", "Matcher", "Region"]
