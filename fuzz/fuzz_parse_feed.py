"""Coverage-guided fuzzing of the feed parser entry point with atheris (libFuzzer).

Invariant: for any bytes, ``parse_feed`` returns a ParsedFeed or raises ``ParseError``;
processing what it returns never raises; the processed HTML is inert (no script, no event
handler, no non-web URL). Anything else is a crash, saved by libFuzzer as ``crash-*``.

    python fuzz/fuzz_parse_feed.py fuzz/corpus -max_total_time=60     # short run (CI)
    python fuzz/fuzz_parse_feed.py fuzz/corpus -max_total_time=3600   # long run (make fuzz)

The seed corpus is the golden feeds of tests/data/feeds (copied into ``fuzz/corpus`` on first
run) plus the hostile-input payloads.
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from newsdesk.errors import ParseError
    from newsdesk.parse import parse_feed
    from newsdesk.process.pipeline import process_feed

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "tests" / "data" / "feeds"
URL = "http://feed.example/feed"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# The hostile-input suite's definition of inert HTML and its payloads.
sys.path.insert(0, str(HERE.parent / "tests"))
from hostile.inert import inert_problems  # noqa: E402


def check(data: bytes) -> None:
    try:
        parsed = parse_feed(data, URL)
    except ParseError:
        return
    for entry in process_feed(parsed, URL, NOW):
        for html in (entry.content_html, entry.summary_html or ""):
            problems = inert_problems(html)
            if problems:
                raise AssertionError(f"active HTML survived sanitizing: {problems}")
        if entry.url is not None and not entry.url.startswith(("http://", "https://")):
            raise AssertionError(f"entry URL is not a web URL: {entry.url!r}")


def seed_corpus(corpus: Path) -> None:
    if corpus.exists() and any(corpus.iterdir()):
        return
    corpus.mkdir(parents=True, exist_ok=True)
    for path in sorted(GOLDEN.glob("*")):
        if not path.name.endswith(".expected.json"):
            shutil.copy(path, corpus / path.name)
    from hostile.payloads import atom_feed, json_feed, rss_feed

    for name, make in (("hostile.rss", rss_feed), ("hostile.atom", atom_feed)):
        (corpus / name).write_bytes(make())
    (corpus / "hostile.json").write_bytes(json_feed())


def main() -> None:
    args = sys.argv[1:]
    dirs = [a for a in args if not a.startswith("-")]
    if dirs:
        seed_corpus(Path(dirs[0]))
    atheris.Setup([sys.argv[0], *args], check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
