"""The static site (planet style): an index river, a page per category, Atom/RSS/JSON feeds of
both, and an OPML of the sources, written to a folder any plain web server can host.

Pages use relative links so the folder works wherever it is put; ``base_url`` (where it will
be served) makes the feeds' links absolute, as feed readers need. The pages carry no script.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import DictLoader, Environment, select_autoescape

from newsdesk.errors import NewsdeskError
from newsdesk.model import StoredEntry
from newsdesk.parse import Outline, render_opml
from newsdesk.publish.digest import Shared
from newsdesk.publish.feeds import FEED_FORMATS, FeedMeta, entry_title, render_feed
from newsdesk.store import EntryQuery

if TYPE_CHECKING:
    from newsdesk.desk import Desk

FEED_LABELS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
FEED_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="Newsdesk">
<title>{{ heading }} · {{ site_title }}</title>
<link rel="stylesheet" href="{{ root }}style.css">
{% for fmt in formats %}<link rel="alternate" type="{{ types[fmt] }}"
 title="{{ heading }} ({{ labels[fmt] }})" href="{{ root }}{{ feed_path }}.{{ fmt }}">
{% endfor %}</head>
<body>
<header><a class="brand" href="{{ root }}index.html">{{ site_title }}</a>
<nav>{% for slug, name in categories %}<a href="{{ root }}category/{{ slug }}.html"
{%- if name == heading %} aria-current="page"{% endif %}>{{ name }}</a> {% endfor %}</nav>
</header>
<main>
<h1>{{ heading }}</h1>
<p class="feeds">Follow: {% for fmt in formats -%}
<a href="{{ root }}{{ feed_path }}.{{ fmt }}">{{ labels[fmt] }}</a>
{%- if not loop.last %} · {% endif %}{% endfor %} ·
<a href="{{ root }}sources.opml">Sources (OPML)</a></p>
{% for entry, shared in items %}
<article>
<p class="meta">{{ entry.feed_title }}{% if entry.category %} · {{ entry.category }}{% endif %} ·
<time datetime="{{ entry.published.strftime('%Y-%m-%dT%H:%M:%SZ') }}">
{{- entry.published.strftime('%Y-%m-%d %H:%M UTC') }}</time></p>
{% if entry.kind == 'post' %}
<p class="post"><strong>@{{ entry.author or entry.feed_title }}</strong>:
{{ ' '.join(entry.content_text.split()) }}</p>
{% for s in shared %}
<p class="shared">↪ <a href="{{ s.url }}" rel="noopener noreferrer">{{ s.title }}</a></p>
{% endfor %}
{% if entry.url %}
<p class="link"><a href="{{ entry.url }}" rel="noopener noreferrer">Original post</a></p>
{% endif %}
{% else %}
<h2>{% if entry.url %}<a href="{{ entry.url }}" rel="noopener noreferrer">{{ title(entry) }}</a>
{%- else %}{{ title(entry) }}{% endif %}</h2>
<div class="content">{{ (entry.content_html or entry.summary_html or '')|safe }}</div>
{% endif %}
</article>
{% else %}
<p>No entries yet.</p>
{% endfor %}
</main>
<footer>Updated {{ now.strftime('%Y-%m-%d %H:%M UTC') }} by Newsdesk.</footer>
</body>
</html>
"""

_STYLE = """:root{color-scheme:light dark;--bg:#f7f5f0;--fg:#1d1b18;--muted:#6b665d;--line:#e3ded3;
--accent:#c2410c;--card:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#15140f;--fg:#ebe6dc;--muted:#a39d92;
--line:#36322a;--accent:#fb923c;--card:#1e1c17}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.6 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Arial,sans-serif}
a{color:var(--accent)}header{padding:.8rem 1.2rem;border-bottom:1px solid var(--line);
background:var(--card)}.brand{font-weight:700;color:var(--fg);text-decoration:none;
margin-right:1rem}nav{display:inline}nav a{margin-right:.7rem;font-size:.92rem}
main{max-width:46rem;margin:0 auto;padding:1rem}article{background:var(--card);
border:1px solid var(--line);border-radius:10px;padding:1rem 1.2rem;margin:0 0 1rem}
.meta,.feeds,footer{color:var(--muted);font-size:.85rem}h2{font-size:1.2rem;margin:.2rem 0}
h2 a{color:var(--fg);text-decoration:none}.content img,.content video{max-width:100%;
height:auto}.content{overflow-wrap:anywhere}.post{overflow-wrap:anywhere}
footer{text-align:center;padding:2rem}
"""


@dataclass(slots=True)
class SiteReport:
    out: Path
    pages: int = 0
    feeds: int = 0


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:60] or "category"


def _unique_slugs(names: Sequence[str]) -> list[tuple[str, str]]:
    taken: set[str] = set()
    pairs = []
    for name in names:
        base = slug = slugify(name)
        n = 2
        while slug in taken:
            slug = f"{base}-{n}"
            n += 1
        taken.add(slug)
        pairs.append((slug, name))
    return pairs


def build_site(
    desk: Desk,
    out: Path,
    *,
    categories: Sequence[str] | None = None,
    base_url: str = "",
    limit: int = 100,
    title: str = "Newsdesk",
) -> SiteReport:
    """Write the site into ``out`` (created if needed; our files in it are replaced)."""
    known = [name for _id, name, _n in desk.store.categories()]
    if categories:
        missing = [c for c in categories if c not in known]
        if missing:
            raise NewsdeskError(
                f"no category named {', '.join(map(repr, missing))} "
                f"(there are: {', '.join(known) or 'none'})"
            )
        chosen = list(dict.fromkeys(categories))
    else:
        chosen = known
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "category").mkdir(exist_ok=True)
        (out / "feeds" / "category").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NewsdeskError(f"cannot write to {out}: {exc.strerror}") from None
    base = base_url.rstrip("/") + "/" if base_url else ""
    env = Environment(loader=DictLoader({"page": _PAGE}), autoescape=select_autoescape(["page"]))
    env.autoescape = True
    page = env.get_template("page")
    slugs = _unique_slugs(chosen)
    now = datetime.now(UTC)
    report = SiteReport(out=out)

    def entries_for(category: str | None) -> list[StoredEntry]:
        if category is not None:
            return desk.entries(EntryQuery(category=category, limit=limit))
        if categories:
            found: list[StoredEntry] = []
            for name in chosen:
                found.extend(desk.entries(EntryQuery(category=name, limit=limit)))
            found.sort(key=lambda e: (e.published, e.id), reverse=True)
            return found[:limit]
        return desk.entries(EntryQuery(limit=limit))

    def write(path: str, heading: str, feed_path: str, found: list[StoredEntry]) -> None:
        root = "../" * path.count("/")
        items: list[tuple[StoredEntry, list[Shared]]] = [
            (e, desk.shared_articles(e)) for e in found
        ]
        html = page.render(
            heading=heading,
            site_title=title,
            root=root,
            feed_path=feed_path,
            categories=slugs,
            items=items,
            formats=FEED_FORMATS,
            labels=FEED_LABELS,
            types=FEED_TYPES,
            title=entry_title,
            now=now,
        )
        _write(out / path, html.encode())
        report.pages += 1
        for fmt in FEED_FORMATS:
            meta = FeedMeta(
                title=f"{title}: {heading}" if heading != title else title,
                id=(base or "urn:newsdesk:site:") + f"{feed_path}.{fmt}",
                self_url=f"{feed_path}.{fmt}",
                home_url=path,
                base_url=base,
            )
            _write(out / f"{feed_path}.{fmt}", render_feed(fmt, meta, found))
            report.feeds += 1

    write("index.html", title, "feeds/all", entries_for(None))
    for slug, name in slugs:
        write(f"category/{slug}.html", name, f"feeds/category/{slug}", entries_for(name))
    wanted = set(chosen)
    sources = [
        Outline(url=f.url, title=f.display_title, category=f.category, site_url=f.site_url)
        for f in desk.store.list_feeds()
        if f.category in wanted or (not categories and not f.category)
    ]
    _write(out / "sources.opml", render_opml(sources).encode())
    _write(out / "style.css", _STYLE.encode())
    return report


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a web server never serves half a page."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise NewsdeskError(f"cannot write {path}: {exc.strerror}") from None
