"""Refreshes started from the web ("refresh now", the `r` key): one at a time, run in a thread
of their own (``Desk.refresh`` has its own event loop) while pages keep being served; pages
poll the job's progress."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsdesk.desk import Desk

log = logging.getLogger(__name__)
_ids = itertools.count(1)


@dataclass
class RefreshJob:
    id: int
    feed_ids: list[int] | None
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting"
    done: int = 0
    total: int = 0
    finished: bool = False
    summary: str = ""
    new_entries: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    failure: str | None = None

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def stage_label(self) -> str:
        return {
            "fetch": "Fetching feeds",
            "fulltext": "Extracting full text",
            "starting": "Starting",
        }.get(self.stage, self.stage)


class RefreshJobs:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._lock = threading.Lock()
        self._jobs: dict[int, RefreshJob] = {}
        self._thread: threading.Thread | None = None

    def get(self, job_id: int) -> RefreshJob | None:
        return self._jobs.get(job_id)

    def running(self) -> RefreshJob | None:
        with self._lock:
            return next((j for j in self._jobs.values() if not j.finished), None)

    def start(self, feed_ids: Sequence[int] | None = None) -> RefreshJob:
        """Start a refresh, or return the one already running."""
        with self._lock:
            for job in self._jobs.values():
                if not job.finished:
                    return job
            job = RefreshJob(id=next(_ids), feed_ids=list(feed_ids) if feed_ids else None)
            self._jobs = {k: v for k, v in self._jobs.items() if k > job.id - 20}
            self._jobs[job.id] = job
            self._thread = threading.Thread(
                target=self._run, args=(job,), name=f"refresh-{job.id}", daemon=True
            )
            self._thread.start()
            return job

    def _run(self, job: RefreshJob) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            job.stage, job.done, job.total = stage, done, total

        try:
            report = asyncio.run(self.desk.refresh_async(feed_ids=job.feed_ids, progress=progress))
            job.summary = report.summary
            job.new_entries = report.new_entries
            job.errors = [(o.title or o.url, o.error or "") for o in report.errors]
        except Exception as exc:  # a job must end, whatever happens; the page says why
            log.exception("refresh job %s failed", job.id)
            job.failure = str(exc) or exc.__class__.__name__
        finally:
            job.finished = True

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
