"""The long lists made in Python (``web/rows.py``) give exactly what the template loops they
replace gave, escaping included: the loops are kept here and rendered side by side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup

from newsdesk.model import Feed
from newsdesk.web.app import make_templates
from newsdesk.web.manage import feed_status

CATEGORY_LOOP = """    {% for f in feeds %}
    {% set cls, words = feed_status(f) %}
    <li><a href="/feed/{{ f.id }}">{% if f.icon_id is not none %}{{ feed_icon(f.id) }}{% endif %}{{ f.display_title }}</a> <span class="status {{ cls }}" title="{{ words }}"></span></li>
    {% endfor %}|"""  # noqa: E501 - the template's own lines
NEW_CATEGORY = "    {{ category_feed_items(feeds) }}|"

SUBSCRIPTION_LOOP = """    {% for f in feeds %}
    {% set cls, words = feed_status(f) %}
    <tr id="feed-{{ f.id }}">
      <td><a href="/feed/{{ f.id }}" class="feed-title">{{ feed_icon(f.id) }}{{ f.display_title }}</a><div class="muted small url">{{ f.url }}</div></td>
      <td>{% if f.category %}<a href="/category/{{ f.category|urlencode }}">{{ f.category }}</a>{% endif %}</td>
      <td><span class="status {{ cls }}"></span> <span class="small">{{ words }}</span>{% if f.last_fetched %}<div class="muted small">fetched {{ f.last_fetched|ago }}</div>{% endif %}</td>
      <td class="small">{% if f.next_check %}{{ f.next_check|ago }}{% else %}now{% endif %}</td>
      <td><div class="row-actions">
        <form method="post" action="/refresh" hx-post="/refresh" hx-target="#progress" hx-swap="innerHTML" class="inline">
          <input type="hidden" name="csrf_token" value="{{ csrf_token(request) }}">
          <input type="hidden" name="feed" value="{{ f.id }}">
          <button class="link" title="Refresh this feed now">Refresh</button>
        </form>
        <a href="/subscriptions/{{ f.id }}">Edit</a>
      </div></td>
    </tr>
    {% endfor %}|"""  # noqa: E501
NEW_SUBSCRIPTION = "    {{ subscription_rows(feeds) }}|"

SIDE_LOOP = """      {% for _id, name, count in categories %}
      <li><a href="/category/{{ name|urlencode }}" {% if view is defined and view.kind == 'category' and view.value == name %}aria-current="page"{% endif %}>{{ name }}</a>{% if count %}<span class="count" title="{{ count }} unread">{{ count }}</span>{% endif %}</li>
      {% else %}
      <li class="muted">No categories yet</li>
      {% endfor %}|"""  # noqa: E501
NEW_SIDE = (
    "      {% if categories %}{{ side_categories(categories, view if view is defined else none) }}"
    '{% else %}\n      <li class="muted">No categories yet</li>\n      {% endif %}|'
)

NOW = datetime.now(UTC)
ODD = "A & B <c> 'q' \"d\" é/?#%"


def _feeds() -> list[Feed]:
    return [
        Feed(id=1, url="https://example.org/a.xml"),
        Feed(id=2, url="http://h/a?b=1&c=<2>", title=ODD, category=ODD, icon_id=7),
        Feed(id=3, url="https://x", title="T", custom_title="Mine <&>", category="Plain"),
        Feed(id=4, url="https://y", paused=True, paused_reason='gone <b>& "q"', last_status=200),
        Feed(id=5, url="https://z", paused=True, error_count=3, last_error=None),
        Feed(id=6, url="https://w", error_count=2, last_error="HTTP <500> & 'x'", icon_id=8),
        Feed(
            id=7,
            url="https://v",
            last_status=304,
            last_fetched=NOW - timedelta(hours=3),
            next_check=NOW + timedelta(minutes=30),
            category="",
        ),
    ]


def _render(source: str, **variables: Any) -> str:
    env = make_templates().env
    env.globals.update(
        feed_status=feed_status,
        feed_icon=lambda fid: Markup(f'<img src="/icon/{fid}" alt="">') if fid % 2 else "",
    )
    request = SimpleNamespace(state=SimpleNamespace(csrf_token="t<&>0"))
    return env.from_string(source).render(request=request, **variables)


def test_the_categories_page_feed_items() -> None:
    for feeds in (_feeds(), []):
        assert _render(NEW_CATEGORY, feeds=feeds) == _render(CATEGORY_LOOP, feeds=feeds)


def test_the_subscription_rows() -> None:
    for feeds in (_feeds(), []):
        assert _render(NEW_SUBSCRIPTION, feeds=feeds) == _render(SUBSCRIPTION_LOOP, feeds=feeds)


def test_the_sidebar_categories() -> None:
    categories = [(1, ODD, 748), (2, "Plain", 0), (3, "Zeta", 5), (4, "", 1)]
    views: list[dict[str, Any]] = [
        {},
        {"view": None},
        {"view": SimpleNamespace(kind="category", value=ODD)},
        {"view": SimpleNamespace(kind="category", value="Plain")},
        {"view": SimpleNamespace(kind="feed", value="Plain")},
        {"view": SimpleNamespace(kind="all", value=None)},
    ]
    for listed in (categories, []):
        for view in views:
            old = _render(SIDE_LOOP, categories=listed, **view)
            assert _render(NEW_SIDE, categories=listed, **view) == old, view
