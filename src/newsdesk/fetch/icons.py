"""Finding a site's icon: the icons its home page declares (``<link rel="icon">``,
``shortcut icon``, ``apple-touch-icon``), else ``/favicon.ico``, fetched through the guarded
``HttpClient`` under a small size cap, and kept only when the bytes are an image.

The type is read from the bytes, never from the server's Content-Type: a page that answers
every path with HTML (or an error page served as 200) must not end up stored, and served from
our origin, as an icon. SVG is accepted; the route that serves it forbids it to run anything
(``web.icons``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsdesk.parse.links import join

if TYPE_CHECKING:  # aiohttp is loaded when a site is fetched, not for ``site_origin``
    from newsdesk.fetch.client import HttpClient

ICON_ACCEPT = "image/avif, image/webp, image/png, image/svg+xml, image/*;q=0.8, */*;q=0.5"
# At most this many icon URLs are tried for one site (declared ones, then /favicon.ico).
MAX_CANDIDATES = 4
_SVG_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<")
_SVG_TAG = re.compile(rb"<svg[\s>]", re.I)
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|script)[\s>]", re.I)


@dataclass(frozen=True, slots=True)
class FoundIcon:
    url: str
    mime_type: str
    data: bytes


def site_origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased; None for anything else."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


def sniff_icon(data: bytes) -> str | None:
    """The image type of ``data`` from its first bytes (PNG, ICO, GIF, JPEG, WebP, SVG), or
    None when it is anything else (HTML, text, an unknown format)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\x00\x00\x01\x00") and len(data) >= 22:
        return "image/x-icon"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:4096]
    if _SVG_START.match(head) and _SVG_TAG.search(head) and not _HTML_TAG.search(head):
        return "image/svg+xml"
    return None


def declared_icons(page: bytes, url: str) -> list[str]:
    """The icon URLs a page declares, best first: ``icon`` / ``shortcut icon`` links in page
    order, then ``apple-touch-icon`` ones. Only http(s) URLs (no ``data:``)."""
    # lxml only when a site's page is read: a refresh with every icon known never needs it.
    from lxml import html as lxml_html

    try:
        doc = lxml_html.fromstring(page)
    except Exception:  # lxml raises several types on empty or broken documents
        return []
    base = join(url, str(doc.xpath("string(//base/@href)") or url)) or url
    icons: list[str] = []
    touch: list[str] = []
    for link in doc.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        href = join(base, (link.get("href") or "").strip())
        if href is None or not href.lower().startswith(("http://", "https://")):
            continue
        if "icon" in rels:
            icons.append(href)
        elif "apple-touch-icon" in rels or "apple-touch-icon-precomposed" in rels:
            touch.append(href)
    return list(dict.fromkeys(icons + touch))


async def _try_icon(client: HttpClient, url: str, max_bytes: int) -> FoundIcon | str:
    result = await client.fetch(url, accept=ICON_ACCEPT, max_bytes=max_bytes)
    if result.error is not None:
        return f"{url}: {result.error}"
    mime = sniff_icon(result.body)
    if mime is None:
        what = "an HTML page" if _HTML_TAG.search(result.body[:4096]) else "not an image"
        return f"{url}: {what} (PNG, ICO, GIF, JPEG, WebP or SVG expected)"
    return FoundIcon(result.final_url, mime, result.body)


async def find_icon(client: HttpClient, site_url: str, max_bytes: int) -> FoundIcon | str:
    """The icon of the site at ``site_url``, or why none could be had (each try's error)."""
    origin = site_origin(site_url)
    if origin is None:
        return f"not an http(s) site: {site_url[:200]!r}"
    from newsdesk.fetch.client import PAGE_ACCEPT

    candidates: list[str] = []
    page = await client.fetch(site_url, accept=PAGE_ACCEPT)
    if page.error is not None and page.status is None:
        return f"{site_url}: {page.error}"  # unreachable or refused: /favicon.ico would be too
    if page.error is None and page.body:
        candidates = declared_icons(page.body, page.final_url)
    candidates = list(dict.fromkeys([*candidates[: MAX_CANDIDATES - 1], origin + "/favicon.ico"]))
    problems: list[str] = []
    for url in candidates:
        found = await _try_icon(client, url, max_bytes)
        if isinstance(found, FoundIcon):
            return found
        problems.append(found)
    return "; ".join(problems) or "no icon found"
