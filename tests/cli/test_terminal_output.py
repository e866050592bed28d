"""What `wirewatch stories`, `why` and `outbox` print of stored text: nothing an outlet or a
receiver wrote can drive the terminal, and no receiver's secret is shown (the real CLI,
in-process, on a database filled here)."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.configs import service_config, sqlite, watch_entry, webhook_notifier
from tests.fixtures.outbox_data import T0
from wirewatch.cli.main import main
from wirewatch.models import Source
from wirewatch.store import Store

# C0 and C1 controls but the newline, and the direction overrides and isolates.
UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A headline that retitles the terminal, clears it, moves the cursor, turns red (C1 CSI)
# and reads backwards.
HOSTILE = (
    "\x1b]0;you have been owned\x07\x1b[2J\x1b[1;1HMilitants strike\x9b31m Quetta"
    "\u202eseltit\r\x00 camps"
)
TOKEN = "T0KEN-abcdef1234567890-in-the-path"
HOOK = f"https://discord.com/api/webhooks/42/{TOKEN}"


def write_config(folder: Path) -> str:
    return str(
        service_config(
            folder,
            name="w.yaml",
            storage=sqlite(folder / "w.db"),
            watches=[watch_entry("balochistan-attacks", "coordinated attacks", notify=["siem"])],
            notifiers=[webhook_notifier(HOOK)],
        )
    )


def fill(db: Path, *, title: str, outlet: str, error: str) -> None:
    """One story with one source, a failing delivery and the decision about it."""
    store = Store(db)
    sid = store.stories.create(
        watch="balochistan-attacks", title=title, seen=T0, regions=[], places=[title],
        score=0.7, centroid=np.ones(2, dtype=np.float32),
    )  # fmt: skip
    source = Source("a-1", outlet, "https://dawn.example.org/a-1", title, T0, 0.7, title)
    store.stories.add_source(
        sid, source, joined_by="new", vector=np.ones(2, dtype=np.float32), places=[], regions=[],
        fingerprint=None,
    )  # fmt: skip
    store.outbox.enqueue(
        delivery_id="d-1", notifier="siem", story_id=sid, kind="new_story", article_ids=["a-1"]
    )
    store.outbox.mark_attempt_failed(
        "d-1", error=error, next_attempt_at=T0 + timedelta(minutes=5), dead=False
    )
    store.decisions.record(
        decision="retry", reason=f"new_story d-1 failed, will retry: {error}",
        watch="balochistan-attacks", story_id=sid, notifier="siem",
    )  # fmt: skip
    store.close()


def wirewatch(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(list(argv)) == 0, err.getvalue()
    return out.getvalue()


def outputs(config: str) -> dict[str, str]:
    return {
        "stories": wirewatch("stories", "-c", config),
        "why": wirewatch("why", "s-1", "-c", config),
        "outbox": wirewatch("outbox", "-c", config),
    }


def test_a_hostile_headline_reaches_the_terminal_as_plain_text(tmp_path):
    config = write_config(tmp_path)
    fill(tmp_path / "w.db", title=HOSTILE, outlet="da\x1b[8mwn", error=f"oops {HOSTILE}")

    shown = outputs(config)

    for command, out in shown.items():
        assert not UNSAFE.search(out), (command, out)
        assert "\x1b" not in out and "\u202e" not in out and "\x9b" not in out
    story_line = shown["stories"].splitlines()[0]
    assert story_line.startswith("s-1  [balochistan-attacks]  ]0;you have been owned[2J[1;1H")
    assert "Militants strike31m Quettaseltit  camps" in story_line  # \r: a space
    assert "- da[8mwn  2026-01-31 06:00Z" in shown["stories"]
    assert "last error: oops ]0;" in shown["stories"]
    assert "d-1  pending" in shown["outbox"] and "oops ]0;" in shown["outbox"]


def test_a_stored_newline_cannot_forge_a_line(tmp_path):
    config = write_config(tmp_path)
    fill(tmp_path / "w.db", title="Attack\ns-2  [fake]  Forged story", outlet="dawn", error="x")

    out = wirewatch("stories", "-c", config)

    assert "s-1  [balochistan-attacks]  Attack s-2  [fake]  Forged story" in out
    assert not any(line.startswith("s-2") for line in out.splitlines())


def test_a_receivers_token_stored_by_an_older_version_is_not_shown(tmp_path):
    # errors used to name the whole URL; the store keeps what was written then
    config = write_config(tmp_path)
    fill(tmp_path / "w.db", title="Attacks", outlet="dawn", error=f"{HOOK} answered HTTP 500")

    shown = outputs(config)

    for command, out in shown.items():
        assert TOKEN not in out and "webhooks/42" not in out, command
    assert "https://discord.com/… answered HTTP 500" in shown["outbox"]
    assert "will retry: https://discord.com/… answered HTTP 500" in shown["why"]


_any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_any_text, outlet=_any_text, error=_any_text)
def test_no_stored_text_puts_a_control_character_on_the_terminal(title, outlet, error):
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder))
        fill(Path(folder) / "w.db", title=title, outlet=outlet, error=error)
        for command, out in outputs(config).items():
            assert not UNSAFE.search(out), (command, out)
