"""The team's judgements: stored (store/feedback.py), turned into examples the matcher
consults (examples.py, learner.py), made through one path (api.py) by Slack, the CLI and the
dashboard, and turned into a YAML patch for teams that keep their watches in git (suggest.py).
See docs/feedback.md."""

from wirewatch.feedback.api import Feedback, FeedbackError, record_judgement
from wirewatch.feedback.examples import FeedbackExamples
from wirewatch.feedback.learner import FeedbackLearner

__all__ = ["Feedback", "FeedbackError", "FeedbackExamples", "FeedbackLearner", "record_judgement"]
