"""The Celery app of distributed mode: configuration and the five tasks (enqueue due feeds,
refresh a batch, enrich its new entries, run the intelligence stage on them; and retention,
every ``retention_interval`` seconds).

Reliability choices, and why:

* ``acks_late`` + ``reject_on_worker_lost``: a message is acknowledged only after its task ends,
  so a worker killed mid-task leaves it on the broker to be run again; the lease (owned by the
  task id, so the rerun takes it back at once) and ``unique (feed_id, key)`` make the rerun
  harmless.
* prefetch of one message per process: a slow batch never holds others hostage.
* the broker connection is retried forever, at start and after a loss: workers outlive a
  broker restart.
* Redis' visibility timeout equals the lease: a message whose worker vanished without closing
  its connection comes back when the feeds' leases have run out.
* the periodic ``enqueue_due`` expires after one tick, so ticks missed while workers were busy
  do not pile up.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_shutdown

from newsdesk.errors import StoreError
from newsdesk.intel import intel_wanted
from newsdesk.settings import Settings
from newsdesk.store.engine import TRANSIENT_ERRORS
from newsdesk.util import chunks
from newsdesk.workers import tasks

ENQUEUE_DUE = "newsdesk.enqueue_due"
REFRESH_BATCH = "newsdesk.refresh_batch"
ENRICH_BATCH = "newsdesk.enrich_batch"
INTEL_BATCH = "newsdesk.intel_batch"
CLEANUP = "newsdesk.cleanup"

log = logging.getLogger("newsdesk.workers")
# The database or the network is away for a moment: run the task again later (with backoff).
RETRY_ON = (StoreError, OSError, *TRANSIENT_ERRORS)


def create_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings`` (broker, database, batch size …), tasks registered."""
    app = Celery("newsdesk", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_channel_error_retry=True,
        broker_transport_options={"visibility_timeout": settings.lease_seconds},
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        beat_schedule={
            "enqueue-due-feeds": {
                "task": ENQUEUE_DUE,
                "schedule": settings.scheduler_tick,
                "options": {"expires": settings.scheduler_tick, "queue": settings.celery_queue},
            },
            **_cleanup_schedule(settings),
        },
    )
    _register(app, settings)
    return app


def _cleanup_schedule(settings: Settings) -> dict[str, Any]:
    """Retention (issue 16) every ``retention_interval`` seconds; 0: never."""
    interval = settings.retention_interval
    if interval <= 0:
        return {}
    options = {"expires": interval, "queue": settings.celery_queue}
    return {"apply-retention": {"task": CLEANUP, "schedule": interval, "options": options}}


def _register(app: Celery, settings: Settings) -> None:
    @app.task(name=ENQUEUE_DUE, bind=True, acks_late=False)  # type: ignore[untyped-decorator]
    def enqueue_due_task(self: Task[Any, Any]) -> int:
        store = tasks.store_for(settings)

        def send(batch: list[int]) -> None:
            refresh_batch_task.apply_async(args=(batch,), queue=settings.celery_queue)

        count = tasks.enqueue_due(store, settings, send)
        if count:
            log.info("enqueued %d due feeds", count)
        return count

    @app.task(  # type: ignore[untyped-decorator]
        name=REFRESH_BATCH,
        bind=True,
        autoretry_for=RETRY_ON,
        retry_backoff=5,
        retry_backoff_max=300,
        max_retries=None,
    )
    def refresh_batch_task(self: Task[Any, Any], feed_ids: list[int]) -> dict[str, Any]:
        store = tasks.store_for(settings)
        owner = f"task:{self.request.id or 'local'}"
        report = tasks.refresh_batch(store, settings, feed_ids, owner)
        if report.busy:
            log.info("feeds %s are being refreshed elsewhere: skipped", report.busy)
        # New and edited entries are enriched first (an edit puts back the feed's short links
        # and may move an article to a new page), then read by the intelligence stage (both
        # background jobs).
        enriching = settings.fulltext or settings.expand_links
        changed = report.new_ids + report.updated_ids
        if changed and enriching:
            for chunk in chunks(changed, tasks.ENRICH_CHUNK):
                enrich_batch_task.apply_async(args=(chunk,), queue=settings.celery_queue)
        later = [] if enriching else changed
        if later and intel_wanted(settings):
            for chunk in chunks(later, tasks.ENRICH_CHUNK):
                intel_batch_task.apply_async(args=(chunk,), queue=settings.celery_queue)
        if report.summary:
            log.info("batch of %d: %s", len(report.leased), report.summary)
        return {"leased": len(report.leased), "busy": len(report.busy), "new": len(report.new_ids)}

    @app.task(  # type: ignore[untyped-decorator]
        name=ENRICH_BATCH,
        bind=True,
        autoretry_for=RETRY_ON,
        retry_backoff=5,
        retry_backoff_max=300,
        max_retries=None,
    )
    def enrich_batch_task(self: Task[Any, Any], entry_ids: list[int]) -> dict[str, int]:
        report = tasks.enrich_batch(tasks.store_for(settings), settings, entry_ids)
        if intel_wanted(settings):
            intel_batch_task.apply_async(args=(entry_ids,), queue=settings.celery_queue)
        return {"fulltext_done": report.fulltext_done, "fulltext_failed": report.fulltext_failed}

    @app.task(  # type: ignore[untyped-decorator]
        name=INTEL_BATCH,
        bind=True,
        autoretry_for=RETRY_ON,
        retry_backoff=5,
        retry_backoff_max=300,
        max_retries=None,
    )
    def intel_batch_task(self: Task[Any, Any], entry_ids: list[int]) -> dict[str, int]:
        report = tasks.intel_batch(tasks.store_for(settings), settings, entry_ids)
        return {"clustered": report.clustered, "read": report.read, "alerts": report.alerts_sent}

    @app.task(name=CLEANUP, bind=True, acks_late=False)  # type: ignore[untyped-decorator]
    def cleanup_task(self: Task[Any, Any]) -> dict[str, int]:
        report = tasks.cleanup(tasks.store_for(settings), settings)
        if report.removed:
            log.info("retention removed %d entries", report.removed)
        return {"removed": report.removed, "batches": report.batches}

    @worker_process_shutdown.connect(weak=False)  # type: ignore[untyped-decorator]
    def _close(**_kwargs: Any) -> None:
        tasks.close_stores()


def worker_name() -> str:
    return f"newsdesk-{os.getpid()}@{socket.gethostname()}"
