"""Commands of the reading room and of publishing: `newsdesk serve`, `newsdesk publish` (what
one person sees: ``--user NAME``, default the first admin) and `newsdesk syndication`. Heavy
modules are imported inside the handlers."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from newsdesk.cli.common import CommandFactory, is_loopback, load, open_desk, user_option
from newsdesk.errors import NewsdeskError

if TYPE_CHECKING:
    from newsdesk.demo.server import SampleServer
    from newsdesk.desk import Desk


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from newsdesk.desk import Desk
    from newsdesk.web.app import create_app
    from newsdesk.workers.daemon import listen, run_daemon

    database = args.db
    if args.demo and database is None:
        from newsdesk.demo import demo_database_url

        database = demo_database_url()  # never the user's own desk
    settings = load(args, database_url=database)
    host = args.host or settings.web_host
    port = args.port if args.port is not None else settings.web_port
    no_auth = args.no_auth or (args.demo and is_loopback(host))
    if no_auth and not is_loopback(host):
        raise NewsdeskError(
            f"--no-auth is allowed only on a loopback address (127.0.0.1, ::1), not {host!r}: "
            "anyone who can reach the server would read and change your desk"
        )
    if args.log_level in ("info", "debug"):
        import logging

        logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    desk = Desk(settings)
    server = None
    try:
        sock = listen(host, port)
        if args.demo:
            server, desk = _start_demo(desk)
            settings = desk.settings
        app = create_app(settings, desk=desk, no_auth=no_auth, warm=True)
        _announce(args, desk, sock.getsockname(), host, no_auth)
        return asyncio.run(
            run_daemon(
                desk,
                settings,
                sock=sock,
                app=app,
                log_level=args.log_level,
                scheduler=not args.no_scheduler,
            )
        )
    finally:
        desk.close()
        if server is not None:
            server.stop()


def _announce(
    args: argparse.Namespace, desk: Desk, bound: tuple[str, int], host: str, no_auth: bool
) -> None:
    """Where the reading room is served, and how to log in."""
    settings = desk.settings
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    tick = settings.scheduler_tick
    refreshing = "" if args.no_scheduler else f", refreshing due feeds every {tick:g} s"
    print(f"Newsdesk is serving at http://{shown}:{bound[1]}/{refreshing}  (Ctrl-C to stop)")
    if args.demo:
        print(f"  demo database: {settings.resolved_database_url}")
    if no_auth:
        print("  login is off (loopback only)")
    elif not desk.store.users.has_users():
        print("  first visit: choose your password in the browser")
        if not is_loopback(host):  # /setup answers loopback names only (rebinding)
            print(
                "  (open it as localhost on this machine, list its public name in "
                "NEWSDESK_ALLOWED_HOSTS, or run `newsdesk user set-password`)"
            )
    sys.stdout.flush()


def _start_demo(desk: Desk) -> tuple[SampleServer, Desk]:
    """Serve the bundled sample sources on loopback, subscribe to them (once, whatever the
    earlier runs did) and refresh once. Returns the sample server and a desk whose SSRF guard
    lets it (its address and port alone) through."""
    import asyncio

    from newsdesk.demo import (
        DEMO_CATEGORIES,
        SEED_DIR,
        SOCIAL_DIR,
        allow_sample_server,
        serve_samples,
    )
    from newsdesk.desk import Desk

    server = serve_samples(desk, (SEED_DIR, SOCIAL_DIR), DEMO_CATEGORIES)
    desk = Desk(allow_sample_server(desk.settings, server.base), store=desk.store)
    print(f"Sample sources served at {server.base}; refreshing…", flush=True)
    report = asyncio.run(desk.refresh_async())
    print(report.summary, flush=True)
    return server, desk


def cmd_publish(args: argparse.Namespace) -> int:
    from newsdesk.web.site import build_site

    with closing(open_desk(args)) as desk:
        report = build_site(
            desk,
            Path(args.out),
            categories=args.category or None,
            base_url=args.base_url or "",
            limit=args.limit,
            title=args.title,
        )
    print(f"wrote {report.pages} pages and {report.feeds} feeds to {report.out}")
    return 0


def cmd_syndication(args: argparse.Namespace) -> int:
    """``key``: the person's reader key of the republished feeds; ``rotate-key``: a new desk
    secret (every person's key changes), then the person's new key."""
    from newsdesk.web.pages import FEED_SECRET, syndication_key

    with closing(open_desk(args)) as desk:
        person = desk.store.users.person(getattr(args, "user", None))
        users = desk.store.users
        if args.action == "rotate-key":
            secret = users.rotate_server_secret(FEED_SECRET)
            print("new syndication key: feed links with the old keys stop working")
        else:
            secret = users.server_secret(FEED_SECRET)
    key = syndication_key(secret, person.id)
    print(f"  ?key={key}  ({person.username}'s; a running server uses a new one within a minute)")
    return 0


def register(command: CommandFactory) -> None:
    p = command(
        "serve",
        cmd_serve,
        "serve the web reading room and refresh due feeds in the background (as `newsdesk run`)",
    )
    p.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: 8000)")
    p.add_argument(
        "--no-auth", action="store_true", help="no login (refused unless bound to loopback)"
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="also serve the bundled sample sources on loopback, subscribe and refresh first "
        "(no login on loopback); the database is the demo's own (demo.db in the data folder) "
        "unless --db names one",
    )
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="do not refresh due feeds in the background (only the Refresh button and "
        "`newsdesk refresh` fetch)",
    )
    p.add_argument(
        "--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug")
    )

    p = command("publish", cmd_publish, "write a static site (river, categories, feeds, OPML)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the site into")
    p.add_argument(
        "--category", action="append", metavar="C", help="only this category (repeatable)"
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="where the site will be served (makes the feeds' links absolute)",
    )
    p.add_argument("--limit", type=int, default=100, help="entries per page and feed")
    p.add_argument("--title", default="Newsdesk", help="the site's title")
    user_option(p)

    p = command(
        "syndication",
        cmd_syndication,
        "the republished feeds' key: `syndication rotate-key` makes a new one (old links stop)",
    )
    p.add_argument("action", choices=("key", "rotate-key"))
    user_option(p)
