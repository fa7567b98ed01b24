"""A page's own metadata (title, author, date, site name) from its parsed tree.

trafilatura's ``extract_metadata`` also reads categories, tags and the licence, and guesses an
author from the page's text; on real pages that costs as much as extracting the main text itself.
We need four fields, so we call trafilatura's readers for those only: meta tags and JSON-LD first,
the title element and headings when they say nothing, htmldate's quick search for the date. Should
a trafilatura release move those readers, the whole ``extract_metadata`` is used instead.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class PageMeta:
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site_name: str | None = None


def _lean(tree: Any, url: str) -> PageMeta:
    from htmldate import find_date
    from trafilatura.metadata import (
        examine_meta,
        extract_meta_json,
        extract_sitename,
        extract_title,
    )
    from trafilatura.settings import set_date_params

    found: Any = examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None  # a one-word "author" is a site handle more often than a person
    # trafilatura's JSON-LD reader trips on odd documents; the meta tags' answers remain
    with suppress(Exception):
        found = extract_meta_json(tree, found)
    title = found.title or extract_title(tree)
    params = set_date_params(False)
    params["url"] = found.url or url
    date = find_date(tree, **params)
    site = found.sitename or extract_sitename(tree)
    if site:
        site = site.lstrip("@")
        if site and "." not in site and not site[0].isupper():
            site = site.title()
    return PageMeta(title=title, author=found.author, date=date, site_name=site)


def _full(tree: Any, url: str) -> PageMeta:
    from trafilatura import extract_metadata

    found: Any = extract_metadata(tree, default_url=url, extensive=False)
    return PageMeta(found.title, found.author, found.date, found.sitename)


def read_page_meta(tree: Any, url: str) -> PageMeta:
    """Title, author, date (ISO) and site name of the page ``tree`` (not changed)."""
    try:
        return _lean(tree, url)
    except ImportError:
        return _full(tree, url)
