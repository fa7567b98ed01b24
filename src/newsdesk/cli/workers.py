"""Commands of always-on refresh: `newsdesk run` (web + scheduler in one process),
`newsdesk worker` and `newsdesk beat` (distributed mode on Celery) and `newsdesk queue` (queue
depth, workers, feeds due). Heavy modules are imported inside the handlers."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from typing import TYPE_CHECKING, Any

from newsdesk.cli.common import CommandFactory, is_loopback, load, open_desk
from newsdesk.errors import NewsdeskError

if TYPE_CHECKING:
    from newsdesk.settings import Settings

LOG_LEVELS = ("debug", "info", "warning", "error")


def _broker(args: argparse.Namespace) -> dict[str, Any]:
    """--broker (the Celery commands') over the broker_url setting."""
    broker = getattr(args, "broker", None)
    return {"broker_url": broker} if broker else {}


def _settings(args: argparse.Namespace) -> Settings:
    return load(args, **_broker(args))


def _logging(level: str) -> None:
    import logging

    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _check_database(settings: Settings) -> None:
    """Open (and migrate) the database once, so a wrong URL is a clear error at start."""
    from newsdesk.store import open_store

    open_store(settings.resolved_database_url).close()


def _check_broker(app: Any) -> None:
    """A broker that is down at start is waited for (workers retry forever), but say so."""
    from kombu.utils.url import maybe_sanitize_url

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=5)
    except Exception as exc:
        sys.stderr.write(
            f"newsdesk: cannot reach the broker at {maybe_sanitize_url(app.conf.broker_url)} "
            f"({exc}); waiting for it — start Redis/RabbitMQ or fix --broker\n"
        )


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from newsdesk.desk import Desk
    from newsdesk.workers.daemon import listen, run_daemon, web_app_factory

    settings = _settings(args)
    _logging(args.log_level)
    desk = Desk(settings)
    try:
        create_app = None if args.no_web else web_app_factory()
        app = sock = None
        if create_app is not None:
            host = args.host or settings.web_host
            port = args.port if args.port is not None else settings.web_port
            if args.no_auth and not is_loopback(host):
                raise NewsdeskError(
                    f"--no-auth is allowed only on a loopback address, not {host!r}"
                )
            sock = listen(host, port)
            app = create_app(settings, desk=desk, no_auth=args.no_auth, warm=True)
            bound = sock.getsockname()
            shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            print(
                f"Newsdesk is serving at http://{shown}:{bound[1]}/ and refreshing due feeds "
                f"every {settings.scheduler_tick:g} s (Ctrl-C or SIGTERM to stop)",
                flush=True,
            )
        else:
            print(
                f"Newsdesk is refreshing due feeds every {settings.scheduler_tick:g} s "
                "(no web server; Ctrl-C or SIGTERM to stop)",
                flush=True,
            )
        return asyncio.run(run_daemon(desk, settings, sock=sock, app=app, log_level=args.log_level))
    finally:
        desk.close()


def cmd_worker(args: argparse.Namespace) -> int:
    from newsdesk.workers.app import create_celery, worker_name

    settings = _settings(args)
    _check_database(settings)
    app = create_celery(settings)
    _check_broker(app)
    argv = [
        "worker",
        f"--concurrency={args.concurrency}",
        f"--pool={args.pool}",
        f"--loglevel={args.log_level.upper()}",
        f"--queues={settings.celery_queue}",
        f"--hostname={args.name or worker_name()}",
        "--without-mingle",
    ]
    app.worker_main(argv=argv)
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    from newsdesk.workers.app import create_celery

    settings = _settings(args)
    _check_database(settings)
    app = create_celery(settings)
    _check_broker(app)
    # In-memory schedule: the only job runs every few seconds, nothing worth a state file.
    app.start(
        argv=["beat", "--scheduler=celery.beat:Scheduler", f"--loglevel={args.log_level.upper()}"]
    )
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from newsdesk.workers.app import create_celery
    from newsdesk.workers.status import queue_status

    with closing(open_desk(args, **_broker(args))) as desk:
        status = queue_status(create_celery(desk.settings), desk.store)
    if args.json:
        sys.stdout.write(json.dumps(status.as_dict(), indent=2) + "\n")
        return 0
    feeds = status.feeds
    print(f"queue {status.queue}: {status.waiting} tasks waiting")
    if not status.workers:
        print("workers: none answering (start one with `newsdesk worker`)")
    for w in status.workers:
        print(f"worker {w.name}: {w.processes} processes, {w.active} running, {w.done} done")
    print(
        f"feeds: {feeds['total']} total, {feeds['due']} due, {feeds['being_refreshed']} being "
        f"refreshed, {feeds['failing']} failing, {feeds['paused']} paused; next check "
        f"{feeds['next_check'] or '-'}"
    )
    return 0


def register(command: CommandFactory) -> None:
    p = command("run", cmd_run, "serve the web reading room and refresh due feeds, in one process")
    p.add_argument("--host", help="address to listen on (default: web_host setting)")
    p.add_argument("--port", type=int, help="port to listen on (default: web_port; 0: any)")
    p.add_argument("--no-web", action="store_true", help="only refresh, serve no web pages")
    p.add_argument("--no-auth", action="store_true", help="no login (loopback addresses only)")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info")

    def celery_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--broker", metavar="URL", help="broker URL (default: broker_url setting)")
        p.add_argument("--log-level", choices=LOG_LEVELS, default="info")

    p = command("worker", cmd_worker, "run a Celery worker that refreshes feeds (distributed)")
    celery_options(p)
    p.add_argument("--concurrency", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--pool", choices=("prefork", "solo", "threads"), default="prefork", help="Celery pool"
    )
    p.add_argument("--name", help="worker name (default: newsdesk-PID@HOST)")

    p = command("beat", cmd_beat, "run the Celery beat that enqueues due feeds (run one)")
    celery_options(p)

    p = command("queue", cmd_queue, "show queue depth, workers and feeds due (distributed mode)")
    celery_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
