"""Entry kind (post or article), tags from hashtags, and an entry's outbound links."""

from __future__ import annotations

import re

from newsdesk.model import EntryKind

_WS = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"(…|\.\.\.)\s*$")
_HASHTAG = re.compile(r"#(\w[\w-]*)")
_NOT_BEFORE_HASHTAG = frozenset("&#/")
_BARE_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")

MAX_POST_CHARS = 1200


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


def classify(title: str | None, text: str) -> EntryKind:
    """A post has no title, or a title that only repeats the start of its text."""
    if not title or not title.strip():
        return "post"
    if len(text) > MAX_POST_CHARS:
        return "article"
    head = _norm(_ELLIPSIS.sub("", title))
    body = _norm(text)
    if head and body.startswith(head):
        return "post"
    if body and head.startswith(body) and len(body) >= 0.8 * len(head):
        return "post"  # the text is the (truncated) title
    return "article"


def hashtags(text: str) -> list[str]:
    """#words not glued to a word, an entity (&#…) or a URL path (/#…); numbers are not tags."""
    if "#" not in text:
        return []
    found = []
    for match in _HASHTAG.finditer(text):
        start = match.start()
        before = text[start - 1] if start else " "
        if before.isalnum() or before == "_" or before in _NOT_BEFORE_HASHTAG:
            continue
        if not match.group(1).isdigit():
            found.append(match.group(1).casefold())
    return found


def normalize_tags(*groups: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for tag in group:
            clean = _WS.sub(" ", tag.strip().lstrip("#")).casefold()
            if clean and len(clean) <= 100:
                seen.setdefault(clean, None)
    return list(seen)


_ANCHOR = re.compile(r"<a\b[^>]*?\bhref=\"([^\"]*)\"[^>]*>(.*?)</a>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


def outbound_links(sanitized_html: str, text: str, own_url: str | None) -> list[str]:
    """Links an entry points to: anchors with visible text (not hashtags or mentions, not the
    entry's own URL), and bare URLs in plain text. Order kept, duplicates dropped."""
    found: dict[str, None] = {}
    if "<a" in sanitized_html:
        import html

        for match in _ANCHOR.finditer(sanitized_html):
            href = html.unescape(match.group(1))
            label = html.unescape(_TAG.sub("", match.group(2))).strip()
            if not label or label[0] in "#@" or not href.startswith(("http://", "https://")):
                continue
            if href != own_url:
                found.setdefault(href, None)
    for url in _BARE_URL.findall(text):
        if url != own_url:
            found.setdefault(url, None)
    return list(found)


def linkify(text: str) -> str:
    """Plain text → HTML paragraphs with bare URLs as links (for plain-text feeds)."""
    import html

    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph, quote=False).replace("\n", "<br>")
        escaped = _BARE_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        out.append(f"<p>{escaped}</p>")
    return "".join(out)
