"""A cleanup killed in the middle (issue 16): a real process runs `Desk.cleanup` and is killed
with SIGKILL inside its second batch's transaction, after that batch's rows are deleted and its
tombstones written but before it commits. The database must hold the first batch's removal
whole and nothing of the second: integrity checks pass (SQLite's own and FTS5's), no row points
at a removed entry, every tombstone is a removed entry and no removed entry is stored, entity
counters and stories agree with their rows. The next cleanup completes. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from newsdesk.store.schema import entries, removed_entries, stories
from test_retention import OLD, Team, _hang_everything_off, check_consistent, make_team

ROOT = Path(__file__).resolve().parents[1]
BATCH = 7

CHILD = """
import sys, time
from newsdesk.desk import Desk
from newsdesk.settings import load_settings

settings = load_settings(env={}, database_url=sys.argv[1], retention_batch=int(sys.argv[2]))
desk = Desk(settings)

def on_batch(report):
    print(f"batch {report.batches} written", flush=True)
    if report.batches == 2:
        time.sleep(600)  # killed here: the second batch is written, not committed

report = desk.cleanup(on_batch=on_batch)
print("finished", report.removed, flush=True)
"""


def _kill_in_second_batch(url: str) -> list[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    try:
        assert child.stdout is not None
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.startswith("batch 2"):
                time.sleep(0.2)  # well inside the sleep: nothing more happens before the kill
                child.send_signal(signal.SIGKILL)
                break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)
    assert child.returncode == -signal.SIGKILL, lines
    return lines


@pytest.fixture
def team(store_url: str) -> Iterator[Team]:
    yield from make_team(store_url)


def _stories(team: Team, groups: list[list[int]]) -> None:
    with team.store.engine.begin() as conn:
        for members in groups:
            story = conn.execute(
                insert(stories)
                .values(
                    title="s",
                    lead_entry_id=members[0],
                    size=len(members),
                    sources=1,
                    first_published=OLD,
                    last_published=OLD,
                    created_at=OLD,
                    updated_at=OLD,
                )
                .returning(stories.c.id)
            ).scalar_one()
            conn.execute(update(entries).where(entries.c.id.in_(members)).values(story_id=story))


def test_a_cleanup_killed_in_a_batch_leaves_nothing_half_removed(team: Team) -> None:
    now = datetime.now(UTC)  # the child cleans up by the clock
    feed = team.feed("crash", team.alice, team.bob)
    old = team.fill(feed, "crash", range(10, 40), now - timedelta(days=40))  # 30 to go
    new = team.fill(feed, "crash", range(0, 5), now - timedelta(days=1))
    _hang_everything_off(team, old + new)
    # stories across the batches, one of them kept alive by a new entry
    _stories(team, [old[i : i + 3] for i in range(1, 30, 3)] + [[old[0], new[0]]])
    team.alice.retention.set_default({"keep_days": 30})
    team.bob.retention.set_default({"keep_days": 20})

    lines = _kill_in_second_batch(team.store.url)
    assert lines == ["batch 1 written", "batch 2 written"]
    left = team.ids(feed)
    assert len(left) == 35 - BATCH  # the first batch whole, nothing of the second
    with team.store.engine.connect() as conn:
        tombs = set(conn.execute(select(removed_entries.c.key)).scalars())
    assert len(tombs) == BATCH
    check_consistent(team.store)

    report = team.store.retention.apply()
    assert report.removed == 30 - BATCH
    assert team.ids(feed) == set(new)
    assert team.count(removed_entries) == 30
    check_consistent(team.store)
