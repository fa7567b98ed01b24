"""Resolving the URLs a document gives against its base, without letting a malformed URL (an
unclosed IPv6 bracket, say) stop the parse."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlparse

# An absolute http(s) URL that urllib gives back unchanged, whatever the base (of the same
# scheme or not): lower-case scheme, a host of plain characters (no IPv6 brackets, no ASCII
# controls or spaces), then a path and a non-empty query of plain characters, no ";" (path
# parameters) and no "#" (an empty query or fragment would be dropped). Most feeds give
# nothing else: resolving them costs a regular-expression match instead of two URL parses.
_PLAIN_ABSOLUTE = re.compile(
    r"https?://[\w.~:@!$&'()*+,=%-]+(?:/[\w.~:@!$&'()*+,=%/-]*)?(?:\?[\w.~:@!$&'()*+,=%/?-]+)?\Z",
    re.ASCII,
)


def is_plain_absolute(url: str) -> bool:
    """``url`` is an absolute http(s) URL that reads the same once split and put together
    again (``urlunsplit(urlsplit(url)) == url``), with nothing to clean."""
    return _PLAIN_ABSOLUTE.match(url) is not None


@lru_cache(maxsize=256)
def base_parses(base: str) -> bool:
    """``base`` can be read as a URL (``urljoin`` raises ValueError otherwise, whatever the
    URL joined to it). A document has few bases: remembered."""
    try:
        urlparse(base)
    except ValueError:
        return False
    return True


def join(base: str, url: str) -> str | None:
    """``url`` resolved against ``base``; None when it cannot be read as a URL."""
    if isinstance(url, str) and is_plain_absolute(url) and (not base or base_parses(base)):
        return url  # what urljoin gives, without its two parses
    try:
        return urljoin(base, url)
    except ValueError:
        return None
