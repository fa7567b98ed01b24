"""Score story clustering on the labelled set: store its entries through the real store, run
the real ``cluster_entries``, read back each entry's story, count pairs. Shared by
tests/stories and benchmarks/bench_stories.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from newsdesk.model import Entry
from newsdesk.store.protocols.refresh import FeedState
from newsdesk.store.schema import entries as entries_table
from newsdesk.store.sql import SqlStore

PAIRS = Path(__file__).with_name("pairs.json")


def load_pairs() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PAIRS.read_text())
    return data


def _entry(item: dict[str, Any], suffix: str = "") -> Entry:
    text = item["text"]
    html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return Entry(
        key=item["key"] + suffix,
        url=(item["url"] + suffix)
        if item["url"] and suffix and item["kind"] == "article"
        else item["url"],
        title=item["title"],
        author=None,
        kind=item["kind"],
        published=datetime.fromisoformat(item["published"].replace("Z", "+00:00")),
        updated=None,
        content_html=html,
        content_text=text,
        summary_html=None,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        links=list(item["links"]),
    )


def store_items(
    store: SqlStore, items: Sequence[dict[str, Any]], suffix: str = ""
) -> dict[str, int]:
    """Store the items as entries of one feed per outlet; item key → entry id."""
    now = datetime.now(UTC)
    feeds = {f.url: f.id for f in store.list_feeds()}
    by_feed: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_feed.setdefault(item["feed"], []).append(item)
    ids: dict[str, int] = {}
    batch = []
    for feed, feed_items in by_feed.items():
        url = f"https://{feed.replace('@', '-')}.example/feed{suffix}.xml"
        if url not in feeds:
            feeds[url] = store.add_feed(url).id
        entries = [_entry(i, suffix) for i in feed_items]
        batch.append((feeds[url], FeedState(last_fetched=now), entries))
    store.save_refresh_batch(batch, now)
    keys = {i["key"] + suffix: i["key"] for i in items}
    with store.engine.connect() as conn:
        for row in conn.execute(select(entries_table.c.id, entries_table.c.key)):
            if row.key in keys:
                ids[keys[row.key]] = row.id
    return ids


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    true_positive: int
    false_positive: int
    false_negative: int
    mistakes: list[tuple[str, str, bool]]


def all_entry_ids(store: SqlStore) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(entries_table.c.id).order_by(entries_table.c.id)).scalars())


def story_of(store: SqlStore, ids: dict[str, int]) -> dict[str, int | None]:
    with store.engine.connect() as conn:
        rows = dict(conn.execute(select(entries_table.c.id, entries_table.c.story_id)).all())
    return {key: rows.get(entry_id) for key, entry_id in ids.items()}


def score(pairs: Sequence[Sequence[Any]], stories: dict[str, int | None]) -> Score:
    tp = fp = fn = 0
    mistakes: list[tuple[str, str, bool]] = []
    for key_a, key_b, same in pairs:
        a, b = stories[key_a], stories[key_b]
        together = a is not None and a == b
        if together and same:
            tp += 1
        elif together:
            fp += 1
            mistakes.append((key_a, key_b, False))
        elif same:
            fn += 1
            mistakes.append((key_a, key_b, True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Score(precision, recall, tp, fp, fn, mistakes)
