"""``WebContext``: what every route of the web app shares (settings, the Desk, templates,
auth helpers, the app's secrets, refresh jobs, login limiter and icon links). One is made by
``create_app`` and handed to each route module."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from newsdesk.desk import Desk
from newsdesk.settings import Settings
from newsdesk.store.sql import SqlStore
from newsdesk.store.users import User
from newsdesk.web.jobs import RefreshJobs
from newsdesk.web.lanes import Lanes, is_writing

if TYPE_CHECKING:  # these modules import this one
    from newsdesk.web.api.state import ApiState
    from newsdesk.web.icon_links import IconLinks
    from newsdesk.web.limiter import LoginLimiter
    from newsdesk.web.suggestions import Suggestions

T = TypeVar("T")


class LoginRequired(HTTPException):
    """Raised by ``require_user``; the app answers with a redirect to the login page (or
    ``HX-Redirect`` for htmx requests)."""

    def __init__(self) -> None:
        super().__init__(status_code=401, detail="log in to continue")


@dataclass
class FeedSecret:
    """The secret behind the reader key of the republished feeds (``web.pages.feed_key``) and
    when it was read (``time.monotonic()``; 0.0: read it again before use), so a key rotated by
    another process (the CLI) is picked up."""

    value: str
    read_at: float = 0.0


@dataclass
class WebContext:
    """Shared state handed to every route module as ``routes(ctx)``.

    How route modules use it (``newsdesk.web.api``, ``newsdesk.web.intel``, our own pages):
    - ``ctx.desk`` is the service layer (``Desk``) of the person asking: each request gets its
      own ``ctx`` (``for_request``, called by the route table), whose Desk and store see what
      the logged-in person follows and their own state (issue 15); ``ctx.system_desk`` is the
      desk as the system sees it (admin work, public pages that check a key). Store calls
      block, so run them with ``await ctx.run(fn, *args)`` (a thread) to keep the event loop
      free: a GET's calls run in the reading lane, one at a time, the others' in the write
      lane (``web.lanes``); a GET that writes makes that call with ``await ctx.write(...)``.
    - ``ctx.store`` is the Desk's store; its parts (``ctx.store.users``, ``.tokens`` …) are the
      only way to the database: ``await ctx.run(ctx.store.users.get_user, name)``.
    - ``ctx.render(request, "page.html", title=..., **vars)`` renders a Jinja2 template from
      ``web/templates`` (``base.html`` gives the layout); pass ``status_code=`` to change it.
    - ``ctx.require_user(request)`` returns the logged-in ``User`` or raises ``LoginRequired``
      (answered with a redirect to /login). Pages outside ``PUBLIC_PREFIXES`` are already
      guarded by the session middleware; API prefixes listed in a module's ``PUBLIC_PREFIXES``
      are not, so those modules authenticate requests themselves (tokens, Fever key …).
    - ``ctx.settings`` are the settings loaded at start; never read the environment.
    - The app's shared parts, made once by ``create_app``: ``csrf_secret`` (``web.guard``),
      ``feed_secret`` (reader keys), ``jobs`` (the one refresh runner of pages and APIs),
      ``login_limiter`` (one failed-login budget for every way in), ``icon_links``,
      ``suggestions`` (the search form's entity names, kept a little while) and, once
      ``web.api.routes`` has run, ``api`` (the APIs' state).
    """

    settings: Settings
    desk: Desk
    templates: Jinja2Templates
    csrf_secret: str
    feed_secret: FeedSecret
    jobs: RefreshJobs
    login_limiter: LoginLimiter
    icon_links: IconLinks
    suggestions: Suggestions
    no_auth: bool = False
    public_prefixes: tuple[str, ...] = ()
    api: ApiState | None = None
    # The desk with no person, set by ``for_request`` (the app's own ``ctx`` has it as ``desk``).
    base_desk: Desk | None = None
    lanes: Lanes = field(default_factory=Lanes)
    # Whether ``run`` takes the write lane: the request's method decides (``for_request``).
    writing: bool = True

    @property
    def store(self) -> SqlStore:
        return self.desk.store

    @property
    def system_desk(self) -> Desk:
        return self.base_desk or self.desk

    def for_request(self, request: Request) -> WebContext:
        """This context for one request: the Desk of the logged-in person (with login off, of
        the first admin); before login, the system's (the login and first-run pages)."""
        base = self.system_desk
        user = self.current_user(request)
        if user is None and self.no_auth:
            user = base.store.users.get_user()
        desk = base.as_person(user) if user is not None else base
        return replace(self, desk=desk, base_desk=base, writing=is_writing(request.method))

    @property
    def _person(self) -> int | None:
        person = self.desk.person
        return person.id if person is not None else None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call (store, Desk) in a thread of the request's lane; a write once
        the person's writes an earlier request did not wait for have ended (in order)."""
        if self.writing:
            await self.lanes.settle(self._person, self)
        return await self.lanes.run(self.writing, fn, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call that writes in a thread of the write lane (a GET that writes)."""
        await self.lanes.settle(self._person, self)
        return await self.lanes.run(True, fn, *args, **kwargs)

    def write_later(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Task[T]:
        """Start a blocking call that writes, in the write lane, without waiting for it; the
        person's next writes wait for it (``Lanes.settle``), so their changes land in the
        order they made them."""
        return self.lanes.start_write(self._person, self, fn, *args, **kwargs)

    def render(
        self, request: Request, template: str, *, status_code: int = 200, **variables: Any
    ) -> HTMLResponse:
        return self.templates.TemplateResponse(
            request, template, {"ctx": self, **variables}, status_code=status_code
        )

    def current_user(self, request: Request) -> User | None:
        user: User | None = getattr(request.state, "user", None)
        return user

    def require_user(self, request: Request) -> User:
        user = self.current_user(request) or self.desk.person
        if user is not None:
            return user
        raise LoginRequired()

    def require_admin(self, request: Request) -> User:
        """The logged-in person when they are an admin; 403 otherwise."""
        user = self.require_user(request)
        if not user.is_admin:
            raise HTTPException(status_code=403, detail="only an admin can do this")
        return user
