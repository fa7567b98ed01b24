"""What "inert" means for HTML we emit: no element that runs script, loads a frame or changes
the page (script, iframe, form, meta, base, object, style, svg …), no event-handler or style
attribute, and every URL attribute http(s) or mailto after the browser's own decoding."""

from __future__ import annotations

import re
from html.parser import HTMLParser

DANGEROUS_TAGS = frozenset(
    {
        "script",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "form",
        "input",
        "button",
        "select",
        "textarea",
        "meta",
        "base",
        "link",
        "style",
        "svg",
        "math",
        "template",
        "noscript",
        "xmp",
        "plaintext",
        "isindex",
        "portal",
    }
)
URL_ATTRS = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "data",
        "poster",
        "cite",
        "background",
        "longdesc",
        "xlink:href",
        "lowsrc",
        "dynsrc",
        "codebase",
        "classid",
        "archive",
        "manifest",
        "ping",
        "icon",
        "profile",
        "usemap",
    }
)
FORBIDDEN_ATTRS = frozenset({"style", "srcdoc", "srcset", "formaction", "action", "is"})
SAFE_SCHEMES = ("http://", "https://", "mailto:")
_STRIPPED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]+")
_SCRIPTY = re.compile(r"(javascript|vbscript|livescript|data):", re.I)


class _Checker(HTMLParser):
    def __init__(self, allowed_tags: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in DANGEROUS_TAGS and tag not in self.allowed_tags:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            name = name.lower()
            compact = _STRIPPED_BY_BROWSERS.sub("", value or "").lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in FORBIDDEN_ATTRS:
                self.problems.append(f"<{tag} {name}=…> attribute")
            # An empty href is the page itself; anything else must be a web or mail URL.
            if name in URL_ATTRS and compact and not compact.startswith(SAFE_SCHEMES):
                self.problems.append(f"<{tag} {name}={value!r}> URL")
            if _SCRIPTY.match(compact) and name not in ("title", "alt"):
                self.problems.append(f"<{tag} {name}={value!r}> script URL")


def inert_problems(html: str, allowed_tags: frozenset[str] = frozenset()) -> list[str]:
    checker = _Checker(allowed_tags)
    checker.feed(html)
    checker.close()
    return checker.problems


def assert_inert(html: str | None, where: str, allowed_tags: frozenset[str] = frozenset()) -> None:
    problems = inert_problems(html or "", allowed_tags)
    assert not problems, f"{where}: {problems}\n{(html or '')[:2000]}"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_no_control_chars(text: str | None, where: str) -> None:
    """Terminal escapes (ESC, OSC hyperlinks, BEL …) in text we print or publish as XML."""
    found = _CONTROL.findall(text or "")
    assert not found, f"{where}: control characters {sorted(set(found))!r}"


def assert_safe_url(url: object, where: str) -> None:
    if url is None:
        return
    assert isinstance(url, str), where
    assert url.startswith(("http://", "https://")), f"{where}: {url!r}"


_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


class _PageChecker(_Checker):
    """A whole page of ours: its own stylesheet, scripts, forms and meta tags are expected;
    anything a feed could add is not. Scripts only from /static/ and never inline, no event
    handlers, URLs relative or web/mail, no meta refresh, no frames, objects or SVG."""

    def __init__(self) -> None:
        super().__init__(frozenset())
        self._in_script = False

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "script":
            self._in_script = True
            if not values.get("src", "").startswith("/static/"):
                self.problems.append(f"<script {values}> not from /static/")
        elif tag == "meta":
            if values.get("http-equiv", "").lower() == "refresh":
                self.problems.append("<meta http-equiv=refresh>")
        elif tag in ("form", "input", "button", "select", "textarea", "link", "style"):
            pass  # the page's own controls and stylesheet; their URLs are checked below
        elif tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in values.items():
            compact = _STRIPPED_BY_BROWSERS.sub("", value).lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in ("srcdoc", "formaction", "style"):
                self.problems.append(f"<{tag} {name}=…> attribute")
            scheme = _SCHEME.match(compact)
            if (
                name in URL_ATTRS | {"action"}
                and scheme
                and scheme.group(1)
                not in (
                    "http",
                    "https",
                    "mailto",
                )
            ):
                self.problems.append(f"<{tag} {name}={value!r}> URL")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data[:80]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag.lower() == "script":
            self._in_script = False


def page_problems(html: str) -> list[str]:
    checker = _PageChecker()
    checker.feed(html)
    checker.close()
    return checker.problems


def assert_no_script_url(url: object, where: str) -> None:
    """A URL in a document we publish: relative, or http(s)/mailto — never another scheme."""
    if url is None:
        return
    assert isinstance(url, str), where
    scheme = _SCHEME.match(_STRIPPED_BY_BROWSERS.sub("", url).lower())
    assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), f"{where}: {url!r}"
