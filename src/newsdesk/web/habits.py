"""Reading habits (issue 16): the Account page's form for a person's preferences, and the
batched "these scrolled past" mark the river sends when ``mark_read_on_scroll`` is on.

- ``POST /account/preferences``: the form's checkboxes (an unchecked box is not sent, so the
  form says which preferences it shows with ``shown``); back to the Account page.
- ``POST /entries/read``: ``ids`` (entries, comma-separated) and ``stories`` (the story each
  story card stood for, as its read button does) from ``static/app.js``, with the CSRF token
  like every form (``X-CSRF-Token`` or ``csrf_token``). Only what the person sees is marked:
  an entry of someone else's feed is skipped, and a story only counts when one of the entries
  sent is in it (its card). Answers ``{"marked": N}``; malformed ids are a 400 saying which.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from newsdesk.errors import NewsdeskError
from newsdesk.store import EntryQuery
from newsdesk.store.users import Preferences
from newsdesk.web.context import WebContext
from newsdesk.web.routing import RouteTable

MAX_BATCH = 500  # ids in one mark (the page sends about one screenful at a time)
PREFERENCE_NAMES = tuple(Preferences().as_dict())

TABLE = RouteTable[WebContext]()


def routes(ctx: WebContext) -> list[BaseRoute]:
    return TABLE.routes(ctx)


def parse_ids(raw: str, name: str) -> list[int]:
    """``1,2,3`` → [1, 2, 3]; a clear 400 for anything else, or too many."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if len(parts) > MAX_BATCH:
        raise HTTPException(400, f"at most {MAX_BATCH} {name} at once, not {len(parts)}")
    for part in parts:
        if not part.isdigit() or len(part) > 10 or int(part) == 0:
            raise HTTPException(400, f"{name} are entry ids separated by commas, not {part[:20]!r}")
    return list(dict.fromkeys(int(p) for p in parts))


@TABLE.post("/account/preferences")
async def preferences(request: Request, ctx: WebContext) -> Response:
    """The reading-habits form: each preference it shows is on when its box is ticked."""
    ctx.require_user(request)
    form = await request.form()
    shown = str(form.get("shown") or ",".join(PREFERENCE_NAMES)).split(",")
    unknown = [name for name in shown if name not in PREFERENCE_NAMES]
    if unknown:
        raise HTTPException(400, f"no preference named {unknown[0][:40]!r}")
    changes = {name: str(form.get(name) or "") in ("on", "1", "true") for name in shown}
    try:
        await ctx.run(ctx.desk.set_preferences, changes)
    except NewsdeskError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse("/account?done=preferences#habits-title", 303)


def mark_scrolled(ctx: WebContext, ids: Sequence[int], stories: Sequence[int]) -> int:
    """Mark read the entries (and the stories of their cards) the person scrolled past; how
    many of the person's entries that touched. Blocking."""
    if not ids:
        return 0
    seen = ctx.desk.entries(EntryQuery(ids=list(ids), limit=len(ids)))
    wanted = set(stories)
    cards = {e.story_id for e in seen if e.story_id is not None and e.story_id in wanted}
    marked = ctx.desk.mark([e.id for e in seen], read=True)
    for story_id in sorted(cards):
        ctx.desk.mark_story(story_id, True)
    return marked


@TABLE.post("/entries/read")
async def entries_read(request: Request, ctx: WebContext) -> Response:
    ctx.require_user(request)
    form = await request.form()
    ids = parse_ids(str(form.get("ids") or ""), "ids")
    stories = parse_ids(str(form.get("stories") or ""), "stories")
    marked = await ctx.run(mark_scrolled, ctx, ids, stories)
    return JSONResponse({"marked": marked})
