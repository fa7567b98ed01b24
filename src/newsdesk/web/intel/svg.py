"""Charts drawn on the server as inline SVG: the page's Content-Security-Policy allows no
script, and an SVG needs none. Colours come from CSS classes (app.css), so light and dark
follow the page; sizes come from a ``viewBox``, so a chart shrinks to a phone's width."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

BUCKETS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Node:
    """A point of the co-mention graph: an entity and where its page is."""

    id: int
    label: str
    kind: str
    href: str


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next(day: date, bucket: str) -> date:
    if bucket == "week":
        return day + timedelta(days=7)
    if bucket == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def fill_buckets(
    points: Sequence[tuple[str, int]], bucket: str, *, limit: int = 400
) -> list[tuple[date, int]]:
    """The series with its empty buckets put back (a time axis needs them), oldest first.

    Points whose date cannot be read are dropped; a series longer than ``limit`` buckets keeps
    its newest ``limit`` (the chart would be unreadable anyway)."""
    counts: dict[date, int] = {}
    for raw, count in points:
        try:
            day = date.fromisoformat(str(raw)[:10])
        except ValueError:
            continue
        start = bucket_start(day, bucket)
        counts[start] = counts.get(start, 0) + int(count)
    if not counts:
        return []
    first, last = min(counts), max(counts)
    series: list[tuple[date, int]] = []
    day = first
    while day <= last:
        series.append((day, counts.get(day, 0)))
        day = _next(day, bucket)
    return series[-limit:]


def choose_bucket(first: date | None, last: date | None) -> str:
    """Days for a short span, weeks for up to two years, months beyond."""
    if first is None or last is None:
        return "day"
    span = (last - first).days
    if span <= 90:
        return "day"
    if span <= 730:
        return "week"
    return "month"


def _label(day: date, bucket: str) -> str:
    return day.strftime("%Y-%m") if bucket == "month" else day.isoformat()


def _nice_max(value: int) -> int:
    if value <= 5:
        return max(value, 1)
    magnitude = int(10 ** int(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def bar_chart(
    points: Sequence[tuple[str, int]], *, bucket: str, subject: str, ident: str = "chart"
) -> Markup:
    """Entries per bucket as bars, with a title and description for screen readers, a labelled
    y axis (entries) and x axis (first, middle and last bucket)."""
    series = fill_buckets(points, bucket)
    unit = {"day": "Day", "week": "Week starting", "month": "Month"}.get(bucket, "Day")
    title = f"Entries mentioning {subject}, by {bucket}"
    if not series:
        desc = f"No entries mention {subject} yet."
        return Markup(
            f'<svg class="chart bars" viewBox="0 0 640 60" role="img" '
            f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(desc)}</desc>'
            f'<text class="axis-label" x="320" y="34" text-anchor="middle">{escape(desc)}</text>'
            "</svg>"
        )
    width, height = 640, 240
    left, right, top, bottom = 46, 12, 14, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(count for _day, count in series)
    top_value = _nice_max(peak)
    total = sum(count for _day, count in series)
    busiest_day, busiest = max(series, key=lambda p: (p[1], p[0]))
    desc = (
        f"{total} entries from {_label(series[0][0], bucket)} to {_label(series[-1][0], bucket)}"
        f" in {len(series)} {bucket}s; the most, {busiest}, in {_label(busiest_day, bucket)}."
    )
    slot = plot_w / len(series)
    bar_w = min(max(slot * 0.8, 0.5), 48.0)  # a few buckets still look like bars
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]
    # Grid lines and y-axis ticks: 0, half, top.
    for value in sorted({0, top_value // 2, top_value}):
        y = top + plot_h - plot_h * value / top_value
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    for index, (day, count) in enumerate(series):
        if not count:
            continue
        h = plot_h * count / top_value
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        parts.append(
            f'<rect class="bar" x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" height="{h:.2f}">'
            f"<title>{_label(day, bucket)}: {count} {'entry' if count == 1 else 'entries'}"
            "</title></rect>"
        )
    base_y = top + plot_h
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{base_y}" y2="{base_y}"/>'
    )
    ticks = sorted({0, len(series) // 2, len(series) - 1})
    for index in ticks:
        x = left + index * slot + slot / 2
        anchor = "start" if index == 0 and len(ticks) > 1 else "middle"
        if index == len(series) - 1 and len(ticks) > 1:
            anchor = "end"
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{base_y + 16}" text-anchor="{anchor}">'
            f"{_label(series[index][0], bucket)}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.0f}" y="{height - 8}" '
        f'text-anchor="middle">{unit}</text>'
        f'<text class="axis-label" x="12" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">Entries</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(text: str, size: int = 22) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def co_mention_svg(
    centre: Node,
    others: Sequence[Node],
    edges: Sequence[tuple[int, int, int]],
    *,
    ident: str = "graph",
) -> Markup:
    """The entity in the centre, the entities mentioned with it on a circle (strongest first,
    clockwise from the top), an edge per pair mentioned together, thicker the more entries they
    share. Each node links to its entity page. Placement depends only on the input order, so
    the same data draws the same picture."""
    title = f"Entities mentioned with {centre.label}"
    width, height = 560, 400
    cx, cy, radius = width / 2, height / 2, 140.0
    if not others:
        desc = f"No other entity is mentioned in the entries that mention {centre.label}."
        return Markup(
            f'<svg class="chart graph" viewBox="0 0 {width} 60" role="img" '
            f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(desc)}</desc>'
            f'<text class="axis-label" x="{cx}" y="34" text-anchor="middle">{escape(desc)}</text>'
            "</svg>"
        )
    places: dict[int, tuple[float, float]] = {centre.id: (cx, cy)}
    for index, node in enumerate(others):
        angle = -math.pi / 2 + 2 * math.pi * index / len(others)
        places[node.id] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    known = [(a, b, w) for a, b, w in edges if a in places and b in places and a != b and w > 0]
    heaviest = max((w for _a, _b, w in known), default=1)
    with_centre = {(min(a, b), max(a, b)): w for a, b, w in known if centre.id in (a, b)}
    names = ", ".join(
        f"{n.label} ({with_centre.get((min(n.id, centre.id), max(n.id, centre.id)), 0)})"
        for n in others
    )
    desc = f"Entries shared with {centre.label}: {names}."
    parts = [
        f'<svg class="chart graph" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        '<g class="edges">',
    ]
    # Edges among the others first, those with the centre on top.
    for a, b, w in sorted(known, key=lambda e: (centre.id in e[:2], e[2], e[0], e[1])):
        (x1, y1), (x2, y2) = places[a], places[b]
        if centre.id in (a, b):
            cls, stroke = "edge centre", 1.5 + 6.5 * w / heaviest
        else:
            cls, stroke = "edge", 0.5 + 2.5 * w / heaviest
        parts.append(
            f'<line class="{cls}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke-width="{stroke:.1f}"><title>{w} shared</title></line>'
        )
    parts.append("</g>")
    for node in (*others, centre):
        x, y = places[node.id]
        size = 16 if node is centre else 9
        if node is centre:
            anchor, lx, ly = "middle", x, y + size + 16
        else:
            dx, dy = x - cx, y - cy
            anchor = "start" if dx > 20 else "end" if dx < -20 else "middle"
            lx = x + (size + 5 if anchor == "start" else -(size + 5) if anchor == "end" else 0)
            ly = y + (4 if anchor != "middle" else (size + 15 if dy > 0 else -(size + 6)))
        parts.append(
            f'<a href="{escape(node.href)}" class="node kind-{escape(node.kind)}">'
            f"<title>{escape(node.label)} ({escape(node.kind)})</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size}"/>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
            f"{escape(_short(node.label))}</text></a>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
