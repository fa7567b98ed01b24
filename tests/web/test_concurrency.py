"""A refresh writing while pages are served must never make them fail ("database is
locked"): SQLite in WAL mode, writers take the lock up front, the web runs store calls in a
thread pool."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import httpx

from newsdesk.desk import Desk
from newsdesk.model import Entry
from newsdesk.store import EntryQuery, FeedState

from .session import Browser


def _writer(desk: Desk, stop: threading.Event, failures: list[BaseException]) -> None:
    """Refreshes, then batches of new entries written as a refresh does, until told to stop."""
    feed_id = desk.store.list_feeds()[0].id
    n = 0
    try:
        asyncio.run(desk.refresh_async())
        while not stop.is_set():
            now = datetime.now(UTC)
            batch = [
                Entry(
                    key=f"load-{n}-{i}",
                    url=f"https://example.org/load/{n}/{i}",
                    title=f"Load test {n} {i} Moscow",
                    author="loader",
                    kind="article",
                    published=now - timedelta(minutes=i),
                    updated=None,
                    content_html="<p>words about Moscow and talks</p>",
                    content_text="words about Moscow and talks",
                    summary_html=None,
                    content_hash=f"h-{n}-{i}",
                )
                for i in range(40)
            ]
            desk.store.save_refresh(feed_id, FeedState(last_fetched=now), batch, now)
            n += 1
    except BaseException as exc:
        failures.append(exc)


async def test_pages_keep_working_during_a_refresh(user: Browser, desk: Desk) -> None:
    stop = threading.Event()
    failures: list[BaseException] = []
    thread = threading.Thread(target=_writer, args=(desk, stop, failures))
    ids = [e.id for e in desk.entries(EntryQuery(limit=10))]
    thread.start()
    try:
        responses: list[httpx.Response] = []
        for round_ in range(8):
            batch = [
                user.get("/?show=all"),
                user.get("/search?q=Moscow talks"),
                user.get(f"/entry/{ids[round_ % len(ids)]}"),
                user.get("/subscriptions"),
                user.post(f"/entry/{ids[round_ % len(ids)]}/star", headers={"HX-Request": "1"}),
                user.post(f"/entry/{ids[-1]}/read", {"value": "0"}, headers={"HX-Request": "1"}),
            ]
            responses.extend(await asyncio.gather(*batch))
    finally:
        stop.set()
        thread.join(60)
    assert not failures, failures
    assert len(responses) == 48
    for response in responses:
        assert response.status_code == 200, (response.url, response.status_code)
        assert "locked" not in response.text
    # The writer really wrote while we read.
    assert desk.store.count_entries(EntryQuery(feed_id=desk.store.list_feeds()[0].id)) > 40
