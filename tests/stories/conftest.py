"""Fixtures of the story tests: the labelled set's scoring module (kept with its data in
tests/data/stories), and a helper that stores hand-made entries through the real store."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select

from newsdesk.model import Entry
from newsdesk.settings import Settings, load_settings
from newsdesk.store import FeedState, open_store, schema
from newsdesk.store.sql import SqlStore

DATA = Path(__file__).resolve().parent.parent / "data" / "stories"
T0 = datetime(2024, 2, 27, 8, 0, tzinfo=UTC)


def _load(name: str) -> ModuleType:
    module_name = f"story_data_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, DATA / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def evaluate() -> ModuleType:
    return _load("evaluate")


@pytest.fixture(scope="session")
def make_pairs() -> ModuleType:
    return _load("make_pairs")


@pytest.fixture
def story_store(store_url: str) -> Iterator[SqlStore]:
    store = open_store(store_url)
    yield store
    store.close()


@pytest.fixture
def story_settings(store_url: str) -> Settings:
    return load_settings(env={}, database_url=store_url)


def entry(
    key: str,
    *,
    title: str | None = None,
    text: str = "",
    kind: str = "article",
    url: str | None = None,
    links: tuple[str, ...] = (),
    minutes: int = 0,
) -> Entry:
    """An entry as the pipeline would store it (``minutes`` after T0)."""
    return Entry(
        key=key,
        url=url
        if url is not None
        else (f"https://news.example/{key}" if kind == "article" else None),
        title=title,
        author=None,
        kind=kind,  # type: ignore[arg-type]
        published=T0 + timedelta(minutes=minutes),
        updated=None,
        content_html="".join(f"<p>{p}</p>" for p in text.split("\n\n") if p),
        content_text=text,
        summary_html=None,
        content_hash=hashlib.sha256(f"{title}|{text}".encode()).hexdigest(),
        links=list(links),
    )


StoreEntries = Callable[..., dict[str, int]]


@pytest.fixture
def put(story_store: SqlStore) -> StoreEntries:
    """Store entries under a feed (created on first use); entry key → id."""
    feeds: dict[str, int] = {}

    def store(feed: str, *entries: Entry) -> dict[str, int]:
        if feed not in feeds:
            feeds[feed] = story_store.add_feed(f"https://{feed}.example/feed.xml").id
        now = datetime.now(UTC)
        story_store.save_refresh(feeds[feed], FeedState(last_fetched=now), entries, now)
        wanted = {e.key for e in entries}
        with story_store.engine.connect() as conn:
            rows = conn.execute(
                select(schema.entries.c.key, schema.entries.c.id).where(
                    schema.entries.c.feed_id == feeds[feed]
                )
            )
            return {key: entry_id for key, entry_id in rows if key in wanted}

    return store


def wire_text(place: str, number: int, extra: str = "") -> str:
    """A wire story long enough to sign: an earthquake near ``place``."""
    return (
        f"A strong earthquake of magnitude {number / 10:.1f} struck near {place} early on "
        f"Tuesday, the national seismology office said, and officials in {place} reported "
        f"damage to older buildings across the city centre.\n\n"
        f"Rescue teams searched collapsed houses through the night while aftershocks shook the "
        f"region. Hospitals in {place} treated dozens of people for injuries, most of them "
        f"minor, according to a regional health official who spoke to reporters.\n\n"
        f"The mayor of {place} asked residents to stay away from damaged structures and said "
        f"schools would remain closed until engineers had inspected them. {extra}"
    )


def story_ids(store: SqlStore, ids: dict[str, int]) -> dict[str, int | None]:
    """Entry key → its story id, read from the entries table."""
    with store.engine.connect() as conn:
        rows = dict(conn.execute(select(schema.entries.c.id, schema.entries.c.story_id)).all())
    return {key: rows[entry_id] for key, entry_id in ids.items()}
