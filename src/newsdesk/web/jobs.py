"""Refreshes started from the web ("refresh now", the `r` key): one at a time, each in a child
process at a lower CPU priority (``workers.child``: parsing and writing must not hold the
interpreter lock the page handlers need), driven by a thread of the web process that copies the
child's progress into the job; pages poll the job's progress."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsdesk.desk import Desk
from newsdesk.store.users import User
from newsdesk.workers.child import RefreshOrder, RefreshProcess

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
    # Who asked for it (user ids): they may follow it; so may an admin. A job started by the
    # system (no person) is an admin's to follow.
    people: set[int] = field(default_factory=set)

    def shown_to(self, viewer: User | None) -> bool:
        """Whether ``viewer`` may follow this job (None: the system, or login off)."""
        return viewer is None or viewer.is_admin or viewer.id in self.people

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
        self._runner = RefreshProcess(desk.store.url, desk.settings)

    def get(self, job_id: int, viewer: User | None = None) -> RefreshJob | None:
        """The job, when ``viewer`` may follow it (``RefreshJob.shown_to``)."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.shown_to(viewer) else None

    def running(self, viewer: User | None = None) -> RefreshJob | None:
        with self._lock:
            return next(
                (j for j in self._jobs.values() if not j.finished and j.shown_to(viewer)), None
            )

    def start(
        self, feed_ids: Sequence[int] | None = None, person: User | None = None
    ) -> RefreshJob:
        """Start a refresh, or return the one already running (``person`` may then follow
        it)."""
        with self._lock:
            for job in self._jobs.values():
                if not job.finished:
                    if person is not None:
                        job.people.add(person.id)
                    return job
            job = RefreshJob(id=next(_ids), feed_ids=list(feed_ids) if feed_ids else None)
            if person is not None:
                job.people.add(person.id)
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
            report = self._runner.run(RefreshOrder(feed_ids=job.feed_ids), progress)
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

    def close(self, timeout: float = 5.0) -> None:
        """At shutdown: ask a running refresh to stop in order (no new fetch; those in flight
        are stored), give it ``timeout`` seconds, then end its process. No refresh starts
        after this."""
        self._runner.stop()
        self.wait(timeout)
        if self._runner.running:
            self._runner.kill()
            self.wait(timeout)
