"""Matching rules: sentence encoder, offline gazetteer, per-watch decisions and explanations.

See docs/matching.md for how an article is scored against a watch.
"""

from wirewatch.rules.encoder import Encoder
from wirewatch.rules.matcher import Matcher
from wirewatch.rules.places import Gazetteer, Region

__all__ = ["Encoder", "Gazetteer", "Matcher", "Region"]
