"""URL canonicalization: the form used to recognise the same page behind different links."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def absolute(url: str | None, base: str | None) -> str | None:
    """``url`` made absolute against ``base``; None for empty or unusable values."""
    if not url:
        return None
    url = url.strip()
    try:
        return urljoin(base, url) if base else url
    except ValueError:
        return None


def is_web_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_URL_NOISE = re.compile(r"[\t\n\r]")


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL, as a browser reads it: tabs and line breaks removed,
    C0 controls and spaces trimmed, scheme in lower case (``HTTPS://`` → ``https://``); None
    otherwise."""
    if not url:
        return None
    url = _URL_NOISE.sub("", url).strip("".join(map(chr, range(0x21))))
    if not is_web_url(url):
        return None
    scheme, rest = url.split(":", 1)
    return scheme.strip().lower() + ":" + rest


@lru_cache(maxsize=65536)
def canonical_url(url: str) -> str:
    """Lower-case scheme and host, default port and fragment dropped, tracking parameters
    (utm_*, fbclid, …) removed, query sorted. Non-web URLs come back unchanged."""
    if not is_web_url(url):
        return url
    import courlan  # here, not at the top: most importers never canonicalize (a 304 refresh)

    try:
        cleaned = courlan.normalize_url(url, strict=False) or url
    except Exception:  # courlan raises on some malformed URLs: keep the URL we have
        cleaned = url
    parts = urlsplit(cleaned)
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
