"""A refresh in a process of its own, for the servers (`newsdesk serve`, `newsdesk run`): the
parsing and writing of a big refresh is CPU work, and in the web server's process it would hold
the interpreter lock the page handlers need. The child runs at a lower CPU priority (``NICE``),
sends its progress and log records back over a pipe, and ends with its parent: it is spawned
by the server itself and asks the kernel for SIGKILL when the server dies (a refresh is
crash-safe: one transaction per batch). SIGTERM asks it to stop as ``newsdesk run`` does — no
new fetch, the fetches in flight are stored. The child leads a process group of its own, with
its parse workers: a signal to the server's group (Ctrl-C in a terminal, ``kill -TERM -PGID``)
reaches the server, which stops the child in order, rather than killing the forkserver its parse
workers hang on.

One ``RefreshProcess`` runs one refresh at a time; ``run`` blocks (call it from a thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from newsdesk.errors import NewsdeskError
from newsdesk.pools import die_with_parent

if TYPE_CHECKING:
    from newsdesk.refresh import RefreshReport
    from newsdesk.settings import Settings

log = logging.getLogger(__name__)

# Niceness added in the child (and so in its parse workers): the web server's handlers get the
# CPU first when both want it.
NICE = 10
# Progress messages at most this often (the last one is always sent).
PROGRESS_EVERY = 0.1

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class RefreshOrder:
    """What the child refreshes (the arguments of ``refresh_feeds`` that cross the pipe)."""

    feed_ids: list[int] | None = None
    due_only: bool = False
    intel: bool = True


class RefreshFailed(RuntimeError):
    """The child's refresh raised something unexpected (a bug): its traceback is the message."""


class RefreshProcess:
    """Runs refreshes in a child process, one at a time, started anew for each refresh."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url, self.settings = url, settings
        self._lock = threading.Lock()
        self._process: Any = None
        self._stopping = False

    def run(self, order: RefreshOrder, progress: Progress | None = None) -> RefreshReport:
        """Refresh in a child and return its report. Raises ``NewsdeskError`` when the refresh
        failed the expected ways (the database went away) or the child died without a
        report, ``RefreshFailed`` on anything else."""
        # spawn, not forkserver: the server's forkserver would die first at a SIGTERM to the
        # whole group, and the child with it (PDEATHSIG), before it could stop in order.
        context = mp.get_context("spawn")
        ours, theirs = context.Pipe(duplex=False)
        process = context.Process(
            target=child_main,
            args=(theirs, self.url, self.settings, order, _level(), os.getpid()),
            name="newsdesk-refresh",
        )
        with self._lock:
            process.start()
            self._process = process
            if self._stopping:
                process.terminate()
        theirs.close()
        try:
            return _receive(ours, progress, process)
        finally:
            ours.close()
            process.join()
            with self._lock:
                self._process = None

    def stop(self) -> None:
        """Ask the running refresh (and any later one) to stop in order: SIGTERM."""
        with self._lock:
            self._stopping = True
            if self._process is not None and self._process.is_alive():
                self._process.terminate()

    def kill(self) -> None:
        """End the running refresh now (what it stored stays; the rest stays due)."""
        with self._lock:
            self._stopping = True
            if self._process is not None and self._process.is_alive():
                self._process.kill()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._process is not None

    @property
    def pid(self) -> int | None:
        """The running child's process id."""
        with self._lock:
            return None if self._process is None else int(self._process.pid)


def _receive(conn: Connection, progress: Progress | None, process: Any) -> RefreshReport:
    while True:
        try:
            message = conn.recv()
        except EOFError:
            process.join()
            raise NewsdeskError(
                f"the refresh process ended without a report (exit code {process.exitcode})"
            ) from None
        kind = message[0]
        if kind == "progress":
            if progress is not None:
                progress(*message[1:])
        elif kind == "log":
            record: logging.LogRecord = message[1]
            logging.getLogger(record.name).handle(record)
        elif kind == "report":
            report: RefreshReport = message[1]
            return report
        elif kind == "error":
            raise NewsdeskError(message[1])
        else:
            raise RefreshFailed(message[1])


# -- in the child ------------------------------------------------------------------------------


class _PipeLog(logging.Handler):
    """Log records go to the parent, which hands them to its own handlers."""

    def __init__(self, conn: Connection, lock: threading.Lock) -> None:
        super().__init__()
        self.conn, self.sending = conn, lock

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.exc_info:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.msg, record.args = record.getMessage(), None
            record.exc_info = None
            with self.sending:
                self.conn.send(("log", record))
        except Exception:  # a log line must not break the refresh
            self.handleError(record)


def _level() -> int:
    return logging.getLogger().getEffectiveLevel()


def child_main(
    conn: Connection, url: str, settings: Settings, order: RefreshOrder, level: int, parent: int
) -> None:
    """The child: its own process group, lower priority, signals, logging to the parent, the
    refresh, its report."""
    asked: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: asked.append(True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    if os.getppid() != parent:  # the server died before the kernel was asked
        return
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    with contextlib.suppress(OSError):
        os.nice(NICE)
    lock = threading.Lock()
    root = logging.getLogger()
    root.handlers[:] = [_PipeLog(conn, lock)]
    root.setLevel(level)
    try:
        report = asyncio.run(_refresh(conn, lock, url, settings, order, asked))
    except BaseException as exc:
        with lock:
            conn.send(_failure(exc))
    else:
        with lock:
            conn.send(("report", report))
    finally:
        conn.close()


def _failure(exc: BaseException) -> tuple[str, str]:
    from newsdesk.store.engine import is_database_error

    if isinstance(exc, NewsdeskError) or is_database_error(exc):
        return ("error", str(exc) or exc.__class__.__name__)
    return ("failed", "".join(traceback.format_exception(exc)).rstrip())


async def _refresh(
    conn: Connection,
    lock: threading.Lock,
    url: str,
    settings: Settings,
    order: RefreshOrder,
    asked: list[bool],
) -> RefreshReport:
    from newsdesk.refresh import refresh_feeds
    from newsdesk.store import open_store

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if asked:  # SIGTERM came before the loop was there
        stop.set()
    sent_at, sent_stage = 0.0, ""
    pending: list[tuple[str, int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal sent_at, sent_stage
        now = time.monotonic()
        pending[:] = [(stage, done, total)]
        if stage != sent_stage or now - sent_at >= PROGRESS_EVERY or done >= total:
            sent_at, sent_stage = now, stage
            with lock:
                conn.send(("progress", stage, done, total))
            pending.clear()

    store = open_store(url)
    try:
        report = await refresh_feeds(
            store,
            settings,
            feed_ids=order.feed_ids,
            due_only=order.due_only,
            intel=order.intel,
            stop=stop,
            progress=progress,
        )
    finally:
        store.close()
    if pending:
        with lock:
            conn.send(("progress", *pending[0]))
    return report
