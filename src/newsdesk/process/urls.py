"""URL canonicalization: the form used to recognise the same page behind different links."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from newsdesk.parse.links import base_parses, is_plain_absolute

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def absolute(url: str | None, base: str | None) -> str | None:
    """``url`` made absolute against ``base``; None for empty or unusable values."""
    if not url:
        return None
    url = url.strip()
    if not base or (is_plain_absolute(url) and base_parses(base)):
        return url  # what urljoin gives
    try:
        return urljoin(base, url)
    except ValueError:
        return None


def is_web_url(url: str | None) -> bool:
    if not url:
        return False
    if is_plain_absolute(url):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_URL_NOISE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL, as a browser reads it: tabs and line breaks removed,
    C0 controls and spaces trimmed, scheme in lower case (``HTTPS://`` → ``https://``); None
    otherwise."""
    if not url:
        return None
    if is_plain_absolute(url):
        return url  # no noise, no controls, a lower-case scheme
    url = _URL_NOISE.sub("", url).strip(_C0_AND_SPACE)
    if not is_web_url(url):
        return None
    scheme, rest = url.split(":", 1)
    return scheme.strip().lower() + ":" + rest


# A URL that is its own canonical form (but for a "/" when it has no path): lower-case scheme
# and host, no query or fragment, a port other than a default one, a path of characters that
# need no quoting, without "//" or a leading "/..", and no punycode to decode. courlan would
# give it back unchanged.
_CANONICAL = re.compile(
    r"https?://[a-z0-9.-]+(?::([0-9]{1,5}))?((?:/[\w.~!=:,%-]+)*/?)\Z", re.ASCII
)


@lru_cache(maxsize=65536)
def canonical_url(url: str) -> str:
    """Lower-case scheme and host, default port and fragment dropped, tracking parameters
    (utm_*, fbclid, …) removed, query sorted. Non-web URLs come back unchanged."""
    plain = _CANONICAL.match(url)
    if (
        plain
        and not (plain.group(1) and int(plain.group(1)) in (80, 443))
        and not plain.group(2).startswith("/..")
        and "xn--" not in url
    ):
        return url if plain.group(2) else url + "/"
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
