"""Retention in `newsdesk run` / `serve` (issue 16): the scheduler loop applies everyone's
retention, as `newsdesk cleanup` does, every ``retention_interval`` seconds (the first time at
start), in a thread beside the web server: batches of ``retention_batch`` entries, one
transaction each, so a refresh or a page never waits long for it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from newsdesk.errors import NewsdeskError
from newsdesk.store.engine import is_database_error

if TYPE_CHECKING:
    from newsdesk.desk import Desk
    from newsdesk.settings import Settings
    from newsdesk.store.retention import RetentionReport

log = logging.getLogger("newsdesk.run")


class CleanupTimer:
    """Runs the desk's cleanup when ``retention_interval`` has passed since the last run."""

    def __init__(
        self, desk: Desk, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.desk = desk
        self.interval = settings.retention_interval
        self.clock = clock
        self.next = clock()

    async def run_if_due(self) -> RetentionReport | None:
        """The cleanup's report when one ran (None: not due, off, or it failed, which is
        logged and tried again at the next interval)."""
        if self.interval <= 0 or self.clock() < self.next:
            return None
        self.next = self.clock() + self.interval
        try:
            report = await asyncio.to_thread(self.desk.cleanup)
        except Exception as exc:
            if not isinstance(exc, NewsdeskError) and not is_database_error(exc):
                raise
            log.error("retention failed, trying again in %d s: %s", self.interval, exc)
            return None
        if report.removed:
            log.info(
                "retention removed %d entries from %d feeds", report.removed, len(report.feeds)
            )
        return report
