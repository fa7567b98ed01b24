"""Digests: entries rendered as plain text (the seed page's layout), Markdown, HTML or JSON.

Plain text, per entry, newest first: a line ``Categories``, the category, a blank line; then for
a post ``AUTHOR: TEXT`` (and, when it shares an article, a line pointing to it), for an article
its title, a blank line and its full text, paragraphs separated by blank lines.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newsdesk.model import StoredEntry

DIGEST_FORMATS = ("text", "markdown", "html", "json")


@dataclass(slots=True, frozen=True)
class Shared:
    """An article a post points to: another entry, or a page fetched for the post."""

    title: str
    url: str


SharedLookup = Callable[[StoredEntry], list[Shared]]


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def _post_text(entry: StoredEntry) -> str:
    paragraphs = _paragraphs(entry.content_text) or [entry.title or ""]
    return "\n\n".join(paragraphs)


def _author(entry: StoredEntry) -> str:
    return entry.author or entry.feed_title or "unknown"


def _title(entry: StoredEntry) -> str:
    return entry.title or (_paragraphs(entry.content_text) or ["(untitled)"])[0][:120]


def render_text(entries: Sequence[StoredEntry], shared: SharedLookup) -> str:
    blocks = []
    for entry in entries:
        lines = ["Categories", entry.category or entry.feed_title or "", ""]
        if entry.kind == "post":
            lines.append(f"{_author(entry)}: {_post_text(entry)}")
            lines.extend(f"↪ {s.title} — {s.url}" for s in shared(entry))
        else:
            lines += [_title(entry), ""]
            lines.append("\n\n".join(_paragraphs(entry.content_text)))
        blocks.append("\n".join(lines).rstrip())
    # Three blank lines between entries, as on the seed page.
    return "\n\n\n\n".join(blocks) + "\n" if blocks else ""


def render_markdown(entries: Sequence[StoredEntry], shared: SharedLookup) -> str:
    out = ["# Digest", ""]
    category = None
    for entry in entries:
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
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    # Keep user text from becoming Markdown structure or raw HTML.
    return html.escape(text, quote=False).replace("[", "\\[").replace("]", "\\]")


def _md_url(url: str) -> str:
    # A link destination in angle brackets ends only at ">": a ")" in a feed's URL cannot close
    # the link early and start a second one (``http://x/a)[y](javascript:…)``).
    return "<" + url.replace("<", "%3C").replace(">", "%3E").replace("\n", "") + ">"


def render_html(entries: Sequence[StoredEntry], shared: SharedLookup) -> str:
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
    for entry in entries:
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
        out.append("</article>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render_json(entries: Sequence[StoredEntry], shared: SharedLookup) -> str:
    return json.dumps([x.as_dict() for x in entries], ensure_ascii=False, indent=2) + "\n"


_RENDERERS: dict[str, Callable[[Sequence[StoredEntry], SharedLookup], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
}


def render_digest(
    entries: Sequence[StoredEntry], fmt: str = "text", shared: SharedLookup | None = None
) -> str:
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        choices = ", ".join(DIGEST_FORMATS)
        raise ValueError(f"unknown digest format {fmt!r}: use one of {choices}") from None
    return renderer(entries, shared or (lambda _entry: []))
