"""Whatever the file holds, loading succeeds or raises ConfigError with located problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirewatch.config.loader import ConfigError, load_config_text
from wirewatch.config.schema import Config

EXAMPLE_TEXT = (Path(__file__).parents[2] / "config" / "wirewatch.example.yaml").read_text()
EXAMPLE_LINES = EXAMPLE_TEXT.splitlines(keepends=True)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
keys = st.sampled_from(
    ["storage", "model", "crawler", "outlets", "watches", "notifiers", "server", "name", "type",
     "feed", "interval", "url", "token", "topic", "notify", "regions", "listen", "from", "to",
     "schedule", "tls", "starttls", "threshold", "slack", "email", "webhook", "terminal"]
) | st.text(max_size=8)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def monkeypatch_env():
    """The example's environment variables, set for this module only."""
    from tests.config.test_loader import EXAMPLE_ENV

    with pytest.MonkeyPatch.context() as patch:
        for name, value in EXAMPLE_ENV.items():
            patch.setenv(name, value)
        yield


def load_or_problems(text: str) -> None:
    """Load `text`; the only allowed failure is a ConfigError with sane problems."""
    try:
        config = load_config_text(text, filename="f.yaml", region_check=lambda name: None)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert isinstance(problem.line, int) and problem.line >= 0
            assert problem.message.strip()
            assert str(problem).startswith(f"f.yaml:{problem.line}: ")
        return
    assert isinstance(config, Config)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    load_or_problems(text)


@FUZZ
@given(documents)
def test_arbitrary_yaml_data(data):
    load_or_problems(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(st.dictionaries(st.sampled_from(list(Config.model_fields)), documents, max_size=7))
def test_arbitrary_sections(data):
    load_or_problems(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(EXAMPLE_LINES) - 1), st.sampled_from(["drop", "dup", "edit"]),
                  st.text(max_size=12)),
        min_size=1, max_size=4,
    )
)  # fmt: skip
def test_mutations_of_the_example(monkeypatch_env, edits):
    lines = list(EXAMPLE_LINES)
    for index, action, text in edits:
        index %= len(lines)
        if action == "drop":
            del lines[index]
        elif action == "dup":
            lines.insert(index, lines[index])
        else:
            cut = len(lines[index]) // 2
            lines[index] = lines[index][:cut] + text + lines[index][cut:]
        if not lines:
            break
    load_or_problems("".join(lines))


def test_the_unmutated_example_loads(monkeypatch_env):
    load_or_problems(EXAMPLE_TEXT)
