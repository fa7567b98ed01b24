"""Digests: entries rendered as plain text (the seed page's layout), Markdown, HTML or JSON.

Plain text, per entry, newest first: a line ``Categories``, the category, a blank line; then for
a post ``AUTHOR: TEXT`` (and, when it shares an article, a line pointing to it), for an article
its title, a blank line and its full text, paragraphs separated by blank lines.

Grouped by story (``group_by_story``), the other members of a story follow its lead, one line
each, instead of each being an entry of its own.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from newsdesk.model import StoredEntry

DIGEST_FORMATS = ("text", "markdown", "html", "json")


@dataclass(slots=True, frozen=True)
class Shared:
    """An article a post points to: another entry, or a page fetched for the post."""

    title: str
    url: str


SharedLookup = Callable[[StoredEntry], list[Shared]]


@dataclass(slots=True)
class StoryGroup:
    """An entry and the other members of its story found in the same list (none when the
    list is not grouped, or the entry has no story there)."""

    head: StoredEntry
    members: list[StoredEntry] = field(default_factory=list)


def group_by_story(
    entries: Sequence[StoredEntry], leads: Mapping[int, int | None] | None = None
) -> list[StoryGroup]:
    """Fold the members of each story into one group, where its first member stood (a search's
    best match, a digest's newest entry); headed by the story's lead entry when ``leads``
    (story id → lead entry id) names one that is in the list."""
    order: list[StoryGroup] = []
    by_story: dict[int, StoryGroup] = {}
    for entry in entries:
        group = by_story.get(entry.story_id) if entry.story_id is not None else None
        if group is not None:
            group.members.append(entry)
            continue
        group = StoryGroup(entry)
        order.append(group)
        if entry.story_id is not None:
            by_story[entry.story_id] = group
    for story_id, group in by_story.items():
        lead = (leads or {}).get(story_id)
        if lead is None or group.head.id == lead:
            continue
        every = [group.head, *group.members]
        found = next((e for e in every if e.id == lead), None)
        if found is not None:
            group.head, group.members = found, [e for e in every if e is not found]
    return order


def ungrouped(entries: Sequence[StoredEntry]) -> list[StoryGroup]:
    return [StoryGroup(e) for e in entries]


def _member_line(entry: StoredEntry) -> str:
    source = entry.feed_title or entry.author or ""
    what = _title(entry) if entry.kind != "post" else _post_text(entry)[:160]
    return f"{source}: {' '.join(what.split())}" + (f" — {entry.url}" if entry.url else "")


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def _post_text(entry: StoredEntry) -> str:
    paragraphs = _paragraphs(entry.content_text) or [entry.title or ""]
    return "\n\n".join(paragraphs)


def _author(entry: StoredEntry) -> str:
    return entry.author or entry.feed_title or "unknown"


def _title(entry: StoredEntry) -> str:
    return entry.title or (_paragraphs(entry.content_text) or ["(untitled)"])[0][:120]


def render_text(groups: Sequence[StoryGroup], shared: SharedLookup) -> str:
    blocks = []
    for group in groups:
        entry = group.head
        lines = ["Categories", entry.category or entry.feed_title or "", ""]
        if entry.kind == "post":
            lines.append(f"{_author(entry)}: {_post_text(entry)}")
            lines.extend(f"↪ {s.title} — {s.url}" for s in shared(entry))
        else:
            lines += [_title(entry), ""]
            lines.append("\n\n".join(_paragraphs(entry.content_text)))
        lines = ["\n".join(lines).rstrip()]
        if group.members:
            lines += ["", "Also in this story:", *(f"- {_member_line(m)}" for m in group.members)]
        blocks.append("\n".join(lines).rstrip())
    # Three blank lines between entries, as on the seed page.
    return "\n\n\n\n".join(blocks) + "\n" if blocks else ""


def render_markdown(groups: Sequence[StoryGroup], shared: SharedLookup) -> str:
    out = ["# Digest", ""]
    category = None
    for group in groups:
        entry = group.head
        if entry.category != category:
            category = entry.category
            out += [f"## {_md(category or entry.feed_title or '')}", ""]
        when = entry.published.strftime("%Y-%m-%d %H:%M UTC")
        if entry.kind == "post":
            out.append(f"**{_md(_author(entry))}**: {_md(_post_text(entry))}  ")
            out.append(
                f"<small>{when}</small>" if not entry.url else f"[{when}]({_md_url(entry.url)})"
            )
            out.extend(f"- ↪ [{_md(s.title)}]({_md_url(s.url)})" for s in shared(entry))
        else:
            title = _md(_title(entry))
            out.append(f"### [{title}]({_md_url(entry.url)})" if entry.url else f"### {title}")
            byline = " · ".join(x for x in (entry.author, entry.feed_title, when) if x)
            out += [f"*{_md(byline)}*", ""]
            out += [_md(p) + "\n" for p in _paragraphs(entry.content_text)]
        if group.members:
            out += ["*Also in this story:*", ""]
            out += [f"- {_md(_member_line(m))}" for m in group.members]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    # Keep user text from becoming Markdown structure or raw HTML.
    return html.escape(text, quote=False).replace("[", "\\[").replace("]", "\\]")


def _md_url(url: str) -> str:
    # A link destination in angle brackets ends only at ">": a ")" in a feed's URL cannot close
    # the link early and start a second one (``http://x/a)[y](javascript:…)``).
    return "<" + url.replace("<", "%3C").replace(">", "%3E").replace("\n", "") + ">"


def render_html(groups: Sequence[StoryGroup], shared: SharedLookup) -> str:
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Newsdesk digest</title>",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;"
        "padding:0 1rem}article{border-bottom:1px solid #ccc;padding:1rem 0}"
        ".cat{text-transform:uppercase;font-size:.8rem;color:#666}</style>",
        "</head><body><h1>Digest</h1>",
    ]
    for group in groups:
        entry = group.head
        out.append("<article>")
        out.append(f'<div class="cat">{e(entry.category or entry.feed_title or "")}</div>')
        if entry.kind == "post":
            out.append(f"<p><strong>{e(_author(entry))}</strong>: {e(_post_text(entry))}</p>")
            for s in shared(entry):
                out.append(
                    f'<p>↪ <a href="{e(s.url)}" rel="noopener noreferrer">{e(s.title)}</a></p>'
                )
        else:
            link = e(entry.url or "")
            out.append(
                f'<h2><a href="{link}" rel="noopener noreferrer">{e(_title(entry))}</a></h2>'
            )
            out.append(entry.content_html)  # sanitized when stored
        if group.members:
            out.append('<p>Also in this story:</p><ul class="story">')
            out.extend(f"<li>{e(_member_line(m))}</li>" for m in group.members)
            out.append("</ul>")
        out.append("</article>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def group_dict(group: StoryGroup, grouped: bool) -> dict[str, object]:
    """An entry as JSON; grouped by story, with ``story_entries``: its story's other members."""
    found = group.head.as_dict()
    if grouped:
        found["story_entries"] = [m.as_dict() for m in group.members]
    return found


def render_json(groups: Sequence[StoryGroup], shared: SharedLookup, grouped: bool = False) -> str:
    body = [group_dict(g, grouped) for g in groups]
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


_RENDERERS: dict[str, Callable[[Sequence[StoryGroup], SharedLookup], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
}


def render_digest(
    entries: Sequence[StoredEntry],
    fmt: str = "text",
    shared: SharedLookup | None = None,
    groups: Sequence[StoryGroup] | None = None,
) -> str:
    """The digest of ``entries``, or of ``groups`` (``group_by_story``) when given."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        choices = ", ".join(DIGEST_FORMATS)
        raise ValueError(f"unknown digest format {fmt!r}: use one of {choices}") from None
    lookup = shared or (lambda _entry: [])
    if fmt == "json":
        return render_json(groups or ungrouped(entries), lookup, grouped=groups is not None)
    return renderer(groups if groups is not None else ungrouped(entries), lookup)
