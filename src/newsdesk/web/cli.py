"""Commands of the reading room and of publishing: `newsdesk serve`, `newsdesk publish` and
`newsdesk user set-password`. Heavy modules are imported inside the handlers."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsdesk.errors import NewsdeskError

Handler = Callable[[argparse.Namespace], int]
CommandFactory = Callable[[str, Handler, str], argparse.ArgumentParser]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _settings(args: argparse.Namespace, **overrides: Any) -> Any:
    from newsdesk.settings import load_settings

    return load_settings(database_url=args.db, **overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from newsdesk.desk import Desk
    from newsdesk.web.app import create_app
    from newsdesk.web.transport import server_config

    settings = _settings(args)
    host = args.host or settings.web_host
    port = args.port or settings.web_port
    no_auth = args.no_auth or (args.demo and is_loopback(host))
    if no_auth and not is_loopback(host):
        raise NewsdeskError(
            f"--no-auth is allowed only on a loopback address (127.0.0.1, ::1), not {host!r}: "
            "anyone who can reach the server would read and change your desk"
        )
    server = _sample_server() if args.demo else None
    if server is not None:
        settings = settings.replace(allowed_networks=_allow(settings, server.base))
    desk = Desk(settings)
    try:
        if server is not None:
            _subscribe_demo(desk, server)
        app = create_app(settings, desk=desk, no_auth=no_auth)
        shown = f"[{host}]" if ":" in host else host
        print(f"Newsdesk is serving at http://{shown}:{port}/  (Ctrl-C to stop)", flush=True)
        if no_auth:
            print("  login is off (loopback only)", flush=True)
        else:
            from newsdesk.store.users import has_users

            if not has_users(desk.store.engine):
                print("  first visit: choose your password in the browser", flush=True)
                if not is_loopback(host):  # /setup answers loopback names only (rebinding)
                    print(
                        "  (open it as localhost on this machine, list its public name in "
                        "NEWSDESK_ALLOWED_HOSTS, or run `newsdesk user set-password`)",
                        flush=True,
                    )
        config = server_config(app, settings, host=host, port=port, log_level=args.log_level)
        uvicorn.Server(config).run()
    finally:
        desk.close()
        if server is not None:
            server.stop()
    return 0


def _sample_server() -> Any:
    from newsdesk.demo import SEED_DIR, SOCIAL_DIR
    from newsdesk.demo.server import SampleServer

    return SampleServer(SEED_DIR, SOCIAL_DIR).start()


def _allow(settings: Any, base: str) -> str:
    """The SSRF guard is lifted for the sample server's own address and port only: the rest
    of loopback stays out of reach of whoever uses the desk."""
    own = base.split("://", 1)[1]
    return ", ".join(part for part in (settings.allowed_networks.strip(), own) if part)


def _subscribe_demo(desk: Any, server: Any) -> None:
    """Subscribe to the bundled sample sources and refresh once."""
    from newsdesk.demo import SEED_FEEDS, SOCIAL_FEEDS

    known = {f.url for f in desk.store.list_feeds()}
    for path in (*SEED_FEEDS, *SOCIAL_FEEDS):
        if server.base + path not in known:
            desk.store.add_feed(server.base + path)
    print(f"Sample sources served at {server.base}; refreshing…", flush=True)
    report = desk.refresh()
    print(report.summary, flush=True)


def cmd_publish(args: argparse.Namespace) -> int:
    from newsdesk.desk import Desk
    from newsdesk.publish.site import build_site

    desk = Desk(_settings(args))
    try:
        report = build_site(
            desk,
            Path(args.out),
            categories=args.category or None,
            base_url=args.base_url or "",
            limit=args.limit,
            title=args.title,
        )
    finally:
        desk.close()
    print(f"wrote {report.pages} pages and {report.feeds} feeds to {report.out}")
    return 0


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise NewsdeskError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user(args: argparse.Namespace) -> int:
    from newsdesk.desk import Desk
    from newsdesk.store.users import set_password

    desk = Desk(_settings(args))
    try:
        password = _read_password(f"New password for {args.username}: ")
        set_password(desk.store.engine, args.username, password)
    finally:
        desk.close()
    print(f"password set for {args.username}")
    return 0


def register(command: CommandFactory) -> None:
    p = command("serve", cmd_serve, "serve the web reading room (Starlette on uvicorn)")
    p.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: 8000)")
    p.add_argument(
        "--no-auth", action="store_true", help="no login (refused unless bound to loopback)"
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="also serve the bundled sample sources on loopback, subscribe and refresh first "
        "(no login on loopback)",
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

    p = command("user", cmd_user, "manage the reading room's user: `user set-password`")
    p.add_argument("action", choices=("set-password",))
    p.add_argument("--username", default="admin", help="user name (default: admin)")
