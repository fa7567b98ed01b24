"""What distributed mode is doing right now: messages waiting on the broker, the workers that
answer (and what they are running), and where the feeds stand in the database."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from celery import Celery

from newsdesk.errors import NewsdeskError
from newsdesk.store import SqlStore


@dataclass(slots=True)
class WorkerStatus:
    name: str
    processes: int
    active: int
    done: int


@dataclass(slots=True)
class QueueStatus:
    queue: str
    waiting: int
    workers: list[WorkerStatus] = field(default_factory=list)
    feeds: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _safe_broker(app: Celery) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(app.conf.broker_url))


def queue_depth(app: Celery, queue: str) -> int:
    """Messages waiting in ``queue`` (not counting those a worker has taken)."""
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=5)
            channel = conn.default_channel
            try:
                declared = channel.queue_declare(queue=queue, passive=True)
            except Exception as exc:  # a queue never declared is an empty queue
                if "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower():
                    return 0
                raise
            return int(declared.message_count)
    except NewsdeskError:
        raise
    except Exception as exc:
        raise NewsdeskError(f"cannot reach the broker at {_safe_broker(app)}: {exc}") from None


def worker_statuses(app: Celery, timeout: float = 1.0) -> list[WorkerStatus]:
    inspect = app.control.inspect(timeout=timeout)
    stats: dict[str, Any] = inspect.stats() or {}
    active: dict[str, Any] = inspect.active() or {}
    found = []
    for name in sorted(set(stats) | set(active)):
        info = stats.get(name, {})
        pool = info.get("pool", {}) if isinstance(info, dict) else {}
        total = info.get("total", {}) if isinstance(info, dict) else {}
        found.append(
            WorkerStatus(
                name=name,
                processes=int(pool.get("max-concurrency", 0) or 0),
                active=len(active.get(name) or []),
                done=int(sum(total.values())) if isinstance(total, dict) else 0,
            )
        )
    return found


def queue_status(app: Celery, store: SqlStore, now: datetime | None = None) -> QueueStatus:
    now = now or datetime.now(UTC)
    queue = str(app.conf.task_default_queue)
    status = QueueStatus(queue=queue, waiting=queue_depth(app, queue))
    status.workers = worker_statuses(app)
    counts = store.leases.feed_counts(now)
    status.feeds = {
        "total": counts.total,
        "due": counts.due,
        "being_refreshed": counts.leased,
        "paused": counts.paused,
        "failing": counts.failing,
        "next_check": counts.next_check.strftime("%Y-%m-%dT%H:%M:%SZ")
        if counts.next_check
        else None,
    }
    return status
