"""The CLI contract: every command takes --db, JSON shapes, OPML in and out, feed discovery,
the database location order, clear errors, and docs that match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from newsdesk.cli import build_parser
from newsdesk.demo import SEED_CATEGORIES, SEED_FEEDS
from newsdesk.demo.server import SampleServer
from newsdesk.settings import SETTINGS, Settings, settings_markdown
from routes_server import Answer, RoutesServer, rss

ROOT = Path(__file__).resolve().parents[1]
FEED_FIELDS = {
    "id",
    "url",
    "title",
    "site_url",
    "category",
    "last_status",
    "error_count",
    "last_error",
    "last_fetched",
}


def _commands() -> dict[str, Any]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)  # type: ignore[arg-type]


def test_every_command_takes_db() -> None:
    for name, sub in _commands().items():
        options = {o for a in sub._actions for o in a.option_strings}
        assert "--db" in options, name


def test_feeds_json_and_category_change(
    cli: Any, sqlite_url: str, seed_server: SampleServer
) -> None:
    url = seed_server.base + SEED_FEEDS[0]
    assert cli("add", url, "--category", "Timeline", "--db", sqlite_url).code == 0
    cli("refresh", "--no-fulltext", "--db", sqlite_url)
    feeds = cli("feeds", "--json", "--db", sqlite_url).json()
    assert set(feeds[0]) >= FEED_FIELDS
    assert feeds[0]["category"] == "Timeline"  # an explicit category beats the feed title
    assert feeds[0]["title"] == "(@mikenov) / Twitter"
    cli("feeds", url, "--category", "Social", "--title", "Mike", "--db", sqlite_url)
    feed = cli("feeds", "--json", "--db", sqlite_url).json()[0]
    assert (feed["category"], feed["title"]) == ("Social", "Mike")
    entries = cli("entries", "--category", "Social", "--json", "--db", sqlite_url).json()
    assert len(entries) == 7 and all(e["category"] == "Social" for e in entries)
    assert cli("entries", "--limit", "2", "--json", "--db", sqlite_url).json()[1]["id"]
    assert cli("remove", url, "--db", sqlite_url).code == 0
    assert cli("entries", "--json", "--db", sqlite_url).json() == []


def test_opml_round_trip(cli: Any, sqlite_url: str, tmp_path: Path) -> None:
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="World"><outline text="A" xmlUrl="https://a.example/feed"/>'
        '<outline text="Deeper"><outline text="B" xmlUrl="https://b.example/rss"/></outline>'
        '</outline><outline text="C" xmlUrl="https://c.example/atom" category="/Tech"/>'
        '<outline text="bad" xmlUrl="file:///etc/passwd"/></body></opml>'
    )
    result = cli("import", str(opml), "--db", sqlite_url)
    assert result.code == 0 and "imported 3 feeds (1 skipped" in result.out
    feeds = {f["url"]: f for f in cli("feeds", "--json", "--db", sqlite_url).json()}
    assert feeds["https://a.example/feed"]["category"] == "World"
    assert feeds["https://b.example/rss"]["category"] == "Deeper"
    assert feeds["https://c.example/atom"]["category"] == "Tech"
    exported = cli("export", "--db", sqlite_url).out
    other = tmp_path / "out.opml"
    other.write_text(exported)
    second_db = f"sqlite:///{tmp_path / 'second.db'}"
    assert "imported 3 feeds" in cli("import", str(other), "--db", second_db).out
    again = {f["url"]: f["category"] for f in cli("feeds", "--json", "--db", second_db).json()}
    assert again == {u: f["category"] for u, f in feeds.items()}


def test_a_feed_without_a_category_goes_to_the_default_one(
    cli: Any, sqlite_url: str, seed_server: SampleServer, tmp_path: Path, monkeypatch: Any
) -> None:
    """Not one category per feed (named after its title): one default category for all."""
    for path in SEED_FEEDS:
        assert cli("add", seed_server.base + path, "--db", sqlite_url).code == 0
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="A" xmlUrl="https://a.example/feed"/></body></opml>'
    )
    assert cli("import", str(opml), "--db", sqlite_url).code == 0
    cli("refresh", "--no-fulltext", "--db", sqlite_url)  # the feeds' titles change nothing
    feeds = cli("feeds", "--json", "--db", sqlite_url).json()
    assert len(feeds) == 3 and {f["category"] for f in feeds} == {"General"}
    assert {f["title"] for f in feeds} >= {"(@mikenov) / Twitter"}
    monkeypatch.setenv("NEWSDESK_DEFAULT_CATEGORY", "  Unsorted  ")
    cli("add", "--no-check", "https://b.example/feed", "--db", sqlite_url)
    assert (
        cli("feeds", "https://b.example/feed", "--json", "--db", sqlite_url).json()[0]["category"]
        == "Unsorted"
    )
    monkeypatch.setenv("NEWSDESK_DEFAULT_CATEGORY", " ")
    bad = cli("feeds", "--db", sqlite_url)
    assert bad.code == 1 and "NEWSDESK_DEFAULT_CATEGORY" in bad.err


def test_bad_opml_is_a_clear_error(cli: Any, sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body><outline")
    result = cli("import", str(bad), "--db", sqlite_url)
    assert result.code == 1 and "not valid XML" in result.err
    missing = cli("import", str(tmp_path / "nope.opml"), "--db", sqlite_url)
    assert missing.code == 1 and "cannot read" in missing.err


def test_add_discovers_the_feed_of_a_page(cli: Any, sqlite_url: str) -> None:
    server = RoutesServer()
    try:
        feed_url = server.route("/blog/feed.xml", Answer(rss("Blog")))
        page = server.route(
            "/blog/",
            Answer(
                b'<html><head><link rel="alternate" type="application/rss+xml" title="Blog" '
                b'href="feed.xml"></head><body>Hello</body></html>',
                200,
                "text/html",
            ),
        )
        result = cli("add", page, "--db", sqlite_url)
        assert result.code == 0, result.err
        assert cli("feeds", "--json", "--db", sqlite_url).json()[0]["url"] == feed_url
    finally:
        server.stop()


def test_database_location_order(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_db = tmp_path / "env.db"
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", f"sqlite:///{env_db}")
    cli("add", "--no-check", "https://example.org/feed")
    assert env_db.exists()
    flag_db = tmp_path / "flag.db"
    cli("add", "--no-check", "https://example.org/other", "--db", f"sqlite:///{flag_db}")
    assert len(cli("feeds", "--json", "--db", f"sqlite:///{flag_db}").json()) == 1
    assert len(cli("feeds", "--json").json()) == 1
    monkeypatch.delenv("NEWSDESK_DATABASE_URL")
    assert Settings().resolved_database_url.endswith("newsdesk/newsdesk.db")


def test_errors_are_one_line_not_tracebacks(cli: Any, sqlite_url: str) -> None:
    for args in (
        ("remove", "42"),
        ("feeds", "nope", "--category", "x"),
        ("digest", "--since", "yesterday-ish"),
        ("entries", "--feed", "99"),
    ):
        result = cli(*args, "--db", sqlite_url)
        assert result.code == 1, args
        assert result.err.startswith("newsdesk: ") and "Traceback" not in result.err
    bad_db = cli("feeds", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert bad_db.code == 1 and "cannot open the database" in bad_db.err


def test_digest_formats(cli: Any, sqlite_url: str, seed_server: SampleServer) -> None:
    for path in SEED_FEEDS:
        cli("add", seed_server.base + path, "--category", SEED_CATEGORIES[path], "--db", sqlite_url)
    cli("refresh", "--db", sqlite_url)
    md = cli("digest", "--format", "markdown", "--db", sqlite_url).out
    assert md.startswith("# Digest") and "## Michael Novakhov's favorite articles" in md
    html = cli("digest", "--format", "html", "--db", sqlite_url).out
    assert html.startswith("<!doctype html>") and "<script" not in html
    as_json = cli(
        "digest", "--format", "json", "--category", "(@mikenov) / Twitter", "--db", sqlite_url
    ).json()
    assert len(as_json) == 7
    assert cli("digest", "--since", "1h", "--db", sqlite_url).out == ""  # the sample is from 2024
    assert (
        cli(
            "digest", "--since", "2024-02-27T22:00:00Z", "--format", "json", "--db", sqlite_url
        ).json()[-1]["published"]
        == "2024-02-27T22:05:00Z"
    )


def test_settings_doc_matches_code() -> None:
    assert (ROOT / "docs" / "settings.md").read_text() == settings_markdown()
    for spec in SETTINGS:
        assert getattr(Settings(), spec.name) == spec.default, spec.name


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsdesk", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("newsdesk ")


def test_parsing_imports_nothing_heavy() -> None:
    """`newsdesk --help` and the parse of every command stay fast: the store, the Desk, the web
    app, Celery, spaCy and trafilatura are imported by the commands that use them."""
    code = (
        "import sys; from newsdesk.cli import build_parser; build_parser(); "
        "heavy = ('newsdesk.web', 'newsdesk.store', 'newsdesk.desk', 'newsdesk.intel', "
        "'starlette', 'spacy', 'trafilatura', 'celery', 'sqlalchemy', 'aiohttp'); "
        "found = sorted(m for m in sys.modules if m.startswith(heavy)); "
        "assert not found, found"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_cli_reference_matches_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsdesk.cli.doc import cli_reference_markdown

    monkeypatch.setenv("COLUMNS", "100")
    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference_markdown(), (
        "regenerate: COLUMNS=100 python -m newsdesk.cli.doc > docs/cli.md"
    )


def test_digest_and_search_group_stories(
    cli: Any, sqlite_url: str, seed_server: SampleServer
) -> None:
    """The sample's two tweets share an article: one story of three. Grouped, it comes once,
    its other members under its lead; default outputs are unchanged."""
    for path in SEED_FEEDS:
        cli("add", seed_server.base + path, "--category", SEED_CATEGORIES[path], "--db", sqlite_url)
    cli("refresh", "--no-fulltext", "--db", sqlite_url)
    flat = cli("digest", "--format", "json", "--db", sqlite_url).json()
    stories = {e["story_id"] for e in flat if e["story_id"] is not None}
    sizes = {s: sum(e["story_id"] == s for e in flat) for s in stories}
    assert max(sizes.values()) >= 2, "the refresh clustered the tweets with their article"
    grouped = cli("digest", "--format", "json", "--group-stories", "--db", sqlite_url).json()
    assert len(grouped) == len(flat) - sum(n - 1 for n in sizes.values())
    assert sorted(
        [e["id"] for e in grouped] + [m["id"] for e in grouped for m in e["story_entries"]]
    ) == sorted(e["id"] for e in flat)
    big = next(e for e in grouped if len(e["story_entries"]) >= 1)
    assert big["kind"] == "article"  # the story's lead, its posts under it
    text = cli("digest", "--group-stories", "--db", sqlite_url).out
    assert text.count("Categories\n") == len(grouped) and "Also in this story:" in text
    assert "Also in this story" not in cli("digest", "--db", sqlite_url).out
    hits = cli("search", "the", "--group-stories", "--json", "--db", sqlite_url).json()
    assert all("story_entries" in h for h in hits)
    ids = [h["story_id"] for h in hits if h["story_id"] is not None]
    assert len(ids) == len(set(ids))
    plain = cli("search", "the", "--group-stories", "--db", sqlite_url)
    assert plain.code == 0 and "        + " in plain.out
