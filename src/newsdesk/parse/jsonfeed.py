"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) → ``ParsedFeed``."""

from __future__ import annotations

import json
from typing import Any

from newsdesk.errors import ParseError
from newsdesk.model import Enclosure, ParsedFeed, ParsedItem
from newsdesk.parse.dates import parse_date
from newsdesk.parse.links import join


def _str(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None


def _author_name(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    if isinstance(authors, list):
        for author in authors:
            if isinstance(author, dict) and _str(author.get("name")):
                return _str(author.get("name"))
    author = obj.get("author")  # JSON Feed 1.0
    if isinstance(author, dict):
        return _str(author.get("name"))
    return None


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ParseError("the JSON document is not a JSON Feed (not an object)")
    version = _str(doc.get("version")) or ""
    if "jsonfeed.org" not in version and "items" not in doc:
        raise ParseError("the JSON document is not a JSON Feed (no version, no items)")
    problems: list[str] = []
    items_raw = doc.get("items")
    if not isinstance(items_raw, list):
        problems.append("the JSON Feed has no list of items")
        items_raw = []
    home = _str(doc.get("home_page_url"))
    feed_author = _author_name(doc)
    parsed = ParsedFeed(
        title=_str(doc.get("title")),
        site_url=join(url, home) if home else None,
        self_url=join(url, s) if (s := _str(doc.get("feed_url"))) else None,
        language=_str(doc.get("language")),
        format="json",
        problems=problems,
    )
    for raw in items_raw:
        if not isinstance(raw, dict):
            problems.append("an item of the JSON Feed is not an object; skipped")
            continue
        parsed.items.append(_item(raw, url, feed_author))
    return parsed


def _item(raw: dict[str, Any], url: str, feed_author: str | None) -> ParsedItem:
    link = _str(raw.get("url")) or _str(raw.get("external_url"))
    content = _str(raw.get("content_html"))
    if content is None and (text := _str(raw.get("content_text"))):
        import html

        content = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    tags = [t for t in (raw.get("tags") or []) if isinstance(t, str) and t.strip()]
    enclosures = []
    for attachment in raw.get("attachments") or []:
        if (
            isinstance(attachment, dict)
            and (href := _str(attachment.get("url")))
            and (absolute := join(url, href))
        ):
            size = attachment.get("size_in_bytes")
            enclosures.append(
                Enclosure(
                    url=absolute,
                    type=_str(attachment.get("mime_type")),
                    length=size if isinstance(size, int) and size >= 0 else None,
                )
            )
    image = _str(raw.get("image"))
    if image and (image_url := join(url, image)):
        enclosures.append(Enclosure(url=image_url, type="image/*"))
    return ParsedItem(
        guid=_str(raw.get("id")),
        link=join(url, link) if link else None,
        title=_str(raw.get("title")),
        author=_author_name(raw) or feed_author,
        summary=_str(raw.get("summary")),
        content=content,
        published=parse_date(raw.get("date_published")),
        updated=parse_date(raw.get("date_modified")),
        tags=[t.strip() for t in tags],
        enclosures=enclosures,
        base=url,
        language=_str(raw.get("language")),
    )
