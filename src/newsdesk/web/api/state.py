"""What every API module shares: the Desk, the settings, the refresh jobs (the web app's runner,
so one refresh runs at a time whoever asks), the failed-login limiter, the icon links, the
HTTP Basic cache (``web.api.access``) and ``run`` for blocking store calls (kept off the event
loop)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.store.sql import SqlStore
from newsdesk.store.users import User
from newsdesk.web.icon_links import IconLinks
from newsdesk.web.jobs import RefreshJob, RefreshJobs
from newsdesk.web.lanes import Lanes, is_writing
from newsdesk.web.limiter import LoginLimiter

T = TypeVar("T")


class ApiContext(Protocol):
    """The part of ``newsdesk.web.context.WebContext`` the APIs use."""

    settings: Settings
    desk: Desk
    jobs: RefreshJobs
    login_limiter: LoginLimiter
    icon_links: IconLinks
    lanes: Lanes
    api: ApiState | None


@dataclass
class ApiState:
    """Each request gets its own copy (``for_request``, called by the route table) with no
    person; authenticating the caller (``web.api.access``) sets ``person``, and from then on
    ``api.desk`` and ``api.store`` are that person's (issue 15). Before that they refuse (401),
    so a handler that forgot to authenticate cannot read anyone's data; the lookups that
    authenticate use ``system_store``."""

    settings: Settings
    system_desk: Desk
    jobs: RefreshJobs
    limiter: LoginLimiter
    icon_links: IconLinks
    # HTTP Basic credentials checked lately: digest → (when, user) (``web.api.access``).
    basic_cache: dict[str, tuple[float, User]] = field(default_factory=dict)
    # … and the password hash each was checked against (a changed password ends the pair).
    basic_stamps: dict[str, str] = field(default_factory=dict)
    person: User | None = None
    _desk: Desk | None = None
    lanes: Lanes = field(default_factory=Lanes)
    # Whether ``run`` takes the write lane (``web.lanes``): the request's method decides.
    writing: bool = True

    def for_request(self, request: object) -> ApiState:
        writing = is_writing(str(getattr(request, "method", "POST")))
        return replace(self, person=None, _desk=None, writing=writing)

    def act_as(self, person: User) -> User:
        """From now on this request acts as ``person``."""
        self.person = person
        self._desk = self.system_desk.as_person(person)
        return person

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            from newsdesk.web.api.errors import Unauthorized

            raise Unauthorized()
        return self._desk

    @property
    def system_store(self) -> SqlStore:
        return self.system_desk.store

    @classmethod
    def from_context(cls, ctx: ApiContext) -> ApiState:
        """The APIs' state on the web app's parts: one job runner for the pages and the APIs
        (one refresh at a time in all), one login budget, one set of icon links."""
        return cls(
            settings=ctx.settings,
            system_desk=ctx.desk,
            jobs=ctx.jobs,
            limiter=ctx.login_limiter,
            icon_links=ctx.icon_links,
            lanes=ctx.lanes,
        )

    @property
    def store(self) -> SqlStore:
        return self.desk.store

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A blocking call in a thread of the request's lane (``web.lanes``); a write once
        the caller's writes a page did not wait for have ended (in order)."""
        if self.writing:
            await self.lanes.settle(self.person.id if self.person is not None else None, self)
        return await self.lanes.run(self.writing, fn, *args, **kwargs)

    async def start_refresh(self, feed_ids: Sequence[int] | None = None) -> RefreshJob | None:
        """Refresh ``feed_ids`` (the handler checked the caller sees them) or, without, every
        feed the caller sees that is not paused (a person refreshes their feeds, not the
        desk's); the job (the one already running, if any), or None when there is nothing to
        refresh. The caller may then follow the job."""
        ids = list(feed_ids) if feed_ids else await self.run(self._own_feed_ids)
        if not ids:
            return None
        return self.jobs.start(ids, self.user())

    def _own_feed_ids(self) -> list[int]:
        return [f.id for f in self.store.list_feeds() if not f.paused]

    def user(self) -> User:
        """The person this request acts as (after authentication)."""
        if self.person is None:
            from newsdesk.web.api.errors import Unauthorized

            raise Unauthorized()
        return self.person
