"""Helpers the intelligence pages share: template filters, timeline downloads, paging."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from newsdesk.store.events import TimelineEvent
from newsdesk.timeline.export import events_to_csv, events_to_json
from newsdesk.web.context import WebContext
from newsdesk.web.intel.status import entities_note

KIND_LABELS = {"person": "People", "org": "Organisations", "place": "Places"}
KIND_NAMES = {"person": "person", "org": "organisation", "place": "place"}


def event_date(value: str, precision: str = "day") -> str:
    """An event's date as precise as it is known: 27 September 2023, September 2023, 2023."""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return day.strftime("%B %Y")
    return f"{day.day} {day.strftime('%B %Y')}"


def install(ctx: WebContext) -> None:
    env = ctx.templates.env
    env.filters["event_date"] = event_date
    env.globals["entities_note"] = lambda: entities_note(ctx.settings)
    env.globals["kind_labels"] = KIND_LABELS
    env.globals["kind_names"] = KIND_NAMES


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


def timeline_download(events: Sequence[TimelineEvent], fmt: str, stem: str) -> Response:
    """A timeline as a JSON or CSV file to save."""
    if fmt == "csv":
        body, media = events_to_csv(events), "text/csv; charset=utf-8"
    else:
        body, media = events_to_json(events), "application/json"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{stem}-timeline.{fmt}"'},
    )
