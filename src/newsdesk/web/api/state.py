"""What every API module shares: the Desk, the settings, the refresh jobs (the web app's runner,
so one refresh runs at a time whoever asks), the failed-login limiter, and ``run`` for blocking
store calls (kept off the event loop)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool

from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.store.sql import SqlStore
from newsdesk.store.users import User
from newsdesk.web.auth import LoginLimiter, login_limiter
from newsdesk.web.jobs import RefreshJobs

T = TypeVar("T")


class ApiContext(Protocol):
    """The part of ``newsdesk.web.context.WebContext`` the APIs use."""

    settings: Settings
    desk: Desk
    extras: dict[str, Any]


@dataclass
class ApiState:
    settings: Settings
    desk: Desk
    jobs: RefreshJobs
    limiter: LoginLimiter
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_context(cls, ctx: ApiContext) -> ApiState:
        # One job runner for the web pages and the APIs: one refresh at a time in all.
        jobs = ctx.extras.get("jobs")
        if not isinstance(jobs, RefreshJobs):
            jobs = RefreshJobs(ctx.desk)
            ctx.extras["jobs"] = jobs
        return cls(
            settings=ctx.settings,
            desk=ctx.desk,
            jobs=jobs,
            limiter=login_limiter(ctx),
            extras=ctx.extras,
        )

    @property
    def store(self) -> SqlStore:
        return self.desk.store

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    def user(self) -> User:
        """The reading room's user; when no password is set yet (keys only), user 1, admin."""
        return self.store.users.get_user() or User(
            id=1, username="admin", created_at=datetime(1970, 1, 1, tzinfo=UTC)
        )
