"""`newsdesk run` and `newsdesk serve`: one process that serves the web reading room and
refreshes due feeds on its own — the way most people run Newsdesk, on the embedded SQLite
database (`serve --no-scheduler` leaves the refreshing to the Refresh button). The intelligence
stage (stories, entities, timelines, alerts) runs as a background job beside the scheduler, in
a process of its own.

The web server (uvicorn) and the scheduler loop share one event loop and one store. The loop
also applies retention every ``retention_interval`` seconds (``workers.cleanup``). Every
``scheduler_tick`` seconds the loop looks for due feeds and, when there are some, refreshes them
(``refresh_feeds(due_only=True)``) in a child process at a lower CPU priority
(``workers.child``): the parsing and writing must not hold the interpreter lock the page
handlers need. On SIGTERM or SIGINT: the child is asked to stop — no new fetch starts, fetches in
flight are parsed and stored (one transaction per feed, so nothing is half-written) — the loop
waits for it at most ``shutdown_timeout`` seconds (then ends it), then the web server drains its
connections and the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import signal
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.intel import IntelReport, intel_job, intel_wanted
from newsdesk.pools import die_with
from newsdesk.settings import Settings
from newsdesk.store.engine import is_database_error
from newsdesk.workers.child import NICE, RefreshOrder, RefreshProcess
from newsdesk.workers.cleanup import CleanupTimer

if TYPE_CHECKING:
    from newsdesk.refresh import RefreshReport

log = logging.getLogger("newsdesk.run")


def web_app_factory() -> Callable[..., Any] | None:
    """``newsdesk.web.app.create_app`` when the web part is installed, else None."""
    try:
        from newsdesk.web.app import create_app
    except ImportError as exc:
        if exc.name and exc.name.startswith("newsdesk.web"):
            return None
        raise
    return create_app


def listen(host: str, port: int) -> socket.socket:
    """Bind the web port up front, so a taken port is a clear error before anything starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise NewsdeskError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise NewsdeskError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


IntelQueue = asyncio.Queue[list[int] | None]


def _quiet_child(server: int) -> None:
    """The job's process leaves Ctrl-C to the parent, which stops it in order; it runs at the
    refresh child's lower CPU priority, and ends with the server (``pools.die_with``: its open
    transaction rolls back, the entries stay pending for the next start)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(server)
    with contextlib.suppress(OSError):
        os.nice(NICE)


class _IntelProcess:
    """The background job's process: the stage is CPU work (spaCy above all) that must not
    take the web server's interpreter lock. One job at a time; a crashed process is replaced."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url, self.settings = url, settings
        self.pool: ProcessPoolExecutor | None = None

    async def run(self, ids: list[int] | None) -> IntelReport:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=mp.get_context("forkserver"),
                initializer=_quiet_child,
                initargs=(os.getpid(),),
            )
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, intel_job, self.url, self.settings, ids)
        except BrokenProcessPool:
            self.pool = None  # its process died: the next job starts a new one
            raise

    def close(self) -> None:
        """Stop the process, even in the middle of a job: the job's open transaction rolls back
        and its entries stay pending, read again at the next start (``run_intel(None)``)."""
        if self.pool is None:
            return
        # ProcessPoolExecutor cannot stop a running call; its processes can be.
        processes = getattr(self.pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None


async def intel_loop(desk: Desk, settings: Settings, queue: IntelQueue) -> None:
    """The intelligence stage (stories, entities, timelines, alerts) as a background job: it
    takes the entries each refresh stored, in a process of its own, while the scheduler goes on
    fetching. What is waiting is taken in one go; an empty list asks for the backlog (entries a
    ``newsdesk refresh`` left, or a stop interrupted); ``None`` ends the loop."""
    job = _IntelProcess(desk.store.url, settings)
    try:
        while True:
            wanted = await queue.get()
            if wanted is None:
                return
            ids: list[int] | None = list(wanted) or None  # empty: the backlog
            ending = False
            while ids is not None and not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    ending = True
                    break
                ids.extend(more)  # (the backlog is asked for once, first)
            what = "the backlog" if ids is None else f"{len(ids)} entries"
            try:
                report = await job.run(ids)
            except Exception as exc:  # one failed batch never stops the desk
                log.error("the intelligence stage failed on %s: %s", what, exc)
            else:
                if report.clustered or report.read or report.alerts_sent:
                    log.info("intelligence stage, %s: %s", what, report.summary)
            if ending:
                return
    finally:
        await asyncio.to_thread(job.close)


async def scheduler_loop(desk: Desk, settings: Settings, stop: asyncio.Event) -> None:
    """Refresh the due feeds, wait a tick, again — until ``stop`` is set. The entries each
    refresh stores go to ``intel_loop``, which runs beside it."""
    queue: IntelQueue = asyncio.Queue()
    worker = (
        asyncio.create_task(intel_loop(desk, settings, queue), name="intel")
        if intel_wanted(settings)
        else None
    )
    if worker is not None:
        queue.put_nowait([])  # first, what earlier runs left
    runner = RefreshProcess(desk.store.url, settings)
    cleanup = CleanupTimer(desk, settings)
    try:
        while not stop.is_set():
            try:
                report = await refresh_due(desk, runner, stop)
            except Exception as exc:
                if not isinstance(exc, NewsdeskError) and not is_database_error(exc):
                    raise
                # the database went away (a PostgreSQL restart): say so, try again next tick
                if not stop.is_set():
                    tick = settings.scheduler_tick
                    log.error("refresh failed, trying again in %g s: %s", tick, exc)
            else:
                if report.feeds:
                    log.info("refreshed due feeds: %s", report.summary)
                if report.skipped:
                    log.info("stopping: %d due feeds left for the next start", report.skipped)
                changed = report.new_ids + report.updated_ids
                if worker is not None and changed:
                    queue.put_nowait(changed)
            if not stop.is_set():
                await cleanup.run_if_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.scheduler_tick)
    finally:
        if worker is not None:
            queue.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(worker), settings.shutdown_timeout)
            except TimeoutError:
                log.warning(
                    "the intelligence stage is still reading after %.0f s: stopping it; what "
                    "it did not finish is read at the next start",
                    settings.shutdown_timeout,
                )
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker


async def refresh_due(desk: Desk, runner: RefreshProcess, stop: asyncio.Event) -> RefreshReport:
    """Refresh the due feeds in ``runner``'s child (none due: no child, an empty report). When
    ``stop`` is set the child is asked to stop in order; cancelled, it is ended at once."""
    from newsdesk.refresh import RefreshReport

    due = await asyncio.to_thread(desk.store.due_feeds, datetime.now(UTC), 1)
    if not due or stop.is_set():
        return RefreshReport()
    order = RefreshOrder(due_only=True, intel=False)
    work = asyncio.ensure_future(asyncio.to_thread(runner.run, order))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            runner.stop()
        return await work
    except asyncio.CancelledError:
        runner.kill()
        raise
    finally:
        stopping.cancel()


@contextlib.contextmanager
def _signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    def ask_to_stop(sig: signal.Signals) -> None:
        if not stop.is_set():
            log.info("%s: finishing the fetches in flight, then stopping", sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ask_to_stop, sig)
    try:
        yield
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _web_server(app: Any, settings: Settings, log_level: str) -> Any:
    import uvicorn

    from newsdesk.web.transport import server_config

    class Server(uvicorn.Server):
        # Signals are ours (see _signals): uvicorn must not take them or re-raise them at exit.
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    # The web server's own defences (trusted proxies only, timeouts, connection limit); the
    # socket is bound by the caller, so host and port here are unused.
    config = server_config(app, settings, host=settings.web_host, port=0, log_level=log_level)
    config.timeout_graceful_shutdown = max(1, int(settings.shutdown_timeout))
    return Server(config)


async def run_daemon(
    desk: Desk,
    settings: Settings,
    *,
    sock: socket.socket | None,
    app: Any | None,
    log_level: str = "warning",
    scheduler: bool = True,
) -> int:
    """Serve ``app`` on ``sock`` (when given) and refresh due feeds (unless ``scheduler`` is
    off: `newsdesk serve --no-scheduler`) until SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    server = _web_server(app, settings, log_level) if app is not None and sock else None
    refreshing = scheduler_loop(desk, settings, stop) if scheduler else stop.wait()
    with _signals(loop, stop):
        scheduler_task = asyncio.create_task(refreshing, name="scheduler")
        serving = asyncio.create_task(server.serve(sockets=[sock])) if server else None
        stopped = asyncio.create_task(stop.wait())
        watched = {scheduler_task, stopped, *([serving] if serving else [])}
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        code = 0
        try:
            await asyncio.wait_for(asyncio.shield(scheduler_task), settings.shutdown_timeout)
        except TimeoutError:
            log.warning(
                "fetches still running after %.0f s (shutdown_timeout): cancelling them; "
                "feeds already fetched are stored, the others stay due",
                settings.shutdown_timeout,
            )
            scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler_task
        except Exception:
            log.exception("the scheduler failed")
            code = 1
        if server is not None and serving is not None:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            if serving in done and not stopped.done():
                code = 1  # the web server ended on its own: it could not start
    log.info("stopped")
    return code
