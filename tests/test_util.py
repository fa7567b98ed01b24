"""The helpers every stage shares: batches, dates, names a package loads on first use."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsdesk.util import chunks, iso


def test_chunks_cover_the_items_in_order() -> None:
    assert [list(c) for c in chunks(list(range(7)), 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 3)) == []


def test_iso_is_utc_to_the_second() -> None:
    paris = timezone(timedelta(hours=1))
    assert iso(datetime(2024, 2, 27, 13, 0, 5, 999, tzinfo=paris)) == "2024-02-27T12:00:05Z"
    assert iso(datetime(2024, 2, 27, 12, 0, tzinfo=UTC)) == "2024-02-27T12:00:00Z"
    assert iso(None) is None


def test_a_package_loads_its_heavy_names_on_first_use() -> None:
    probe = (
        "import sys, newsdesk.parse as p, newsdesk.parse.links\n"
        "before = 'newsdesk.parse.feed' in sys.modules\n"
        "p.parse_feed\n"
        "print(before, 'newsdesk.parse.feed' in sys.modules, 'parse_feed' in vars(p))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]
    import newsdesk.fetch as fetch

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = fetch.nothing  # type: ignore[attr-defined]
