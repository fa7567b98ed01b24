"""Extraction rules as data: for a host (later also for a feed), a CSS selector naming the article's
body and CSS selectors naming what to drop from a page before its main text is extracted.

Users keep them in a JSON or TOML file (the ``extract_rules`` setting) mapping a host to a rule::

    {"example.org": {"body": "article .story", "drop": [".newsletter", "aside.more"]}}

A rule for ``example.org`` also applies to its subdomains (``www.example.org``); the longest host
that matches wins. Selectors are compiled to XPath once, with ``cssselect`` (lxml's), so a bad
selector is reported when the file is loaded, not on some page later.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import GenericTranslator, SelectorError
from lxml import etree

from newsdesk.errors import NewsdeskError

_TRANSLATOR = GenericTranslator()
_LOG = logging.getLogger(__name__)


class ExtractRuleError(NewsdeskError):
    """An extraction rule (or the file holding them) that cannot be used."""


def css_to_xpath(selector: str) -> str:
    """XPath 1.0 for a CSS selector; raises ``ExtractRuleError`` for one that cannot be read."""
    if not selector.strip():
        raise ExtractRuleError("an empty CSS selector")
    try:
        return str(_TRANSLATOR.css_to_xpath(selector))
    except SelectorError as exc:
        raise ExtractRuleError(f"bad CSS selector {selector!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ExtractRule:
    """What to keep and what to drop on the pages of one site (or one feed).

    ``body``: CSS selector of the article's body; when it matches, only the matching elements
    are extracted from. ``drop``: CSS selectors of elements removed before extraction.
    """

    body: str | None = None
    drop: tuple[str, ...] = ()
    _body_xpath: etree.XPath | None = field(default=None, init=False, repr=False, compare=False)
    _drop_xpaths: tuple[etree.XPath, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        body = etree.XPath(css_to_xpath(self.body)) if self.body else None
        drops = tuple(etree.XPath(css_to_xpath(css)) for css in self.drop)
        object.__setattr__(self, "drop", tuple(self.drop))
        object.__setattr__(self, "_body_xpath", body)
        object.__setattr__(self, "_drop_xpaths", drops)

    def apply(self, tree: Any) -> bool:
        """Drop the ``drop`` elements from ``tree`` (an lxml HTML document, changed in place),
        then, when ``body`` matches, keep only its elements inside ``<body>``. Returns whether
        the body selector matched."""
        for xpath in self._drop_xpaths:
            for node in xpath(tree):
                if node.getparent() is not None:
                    node.drop_tree()
        if self._body_xpath is None:
            return False
        found = [n for n in self._body_xpath(tree) if isinstance(n.tag, str)]
        # an element nested in another match would be extracted twice
        kept = [n for n in found if not any(a in found for a in n.iterancestors())]
        body = tree.find(".//body")
        if not kept or body is None or any(n is body or n is tree for n in kept):
            return bool(kept)
        for node in kept:
            node.getparent().remove(node)
            node.tail = None
        for child in list(body):
            body.remove(child)
        body.text = None
        body.extend(kept)
        return True


PlainRule = tuple[str | None, tuple[str, ...]]
"""An ``ExtractRule`` as plain data, (body, drop), for a worker process: compiled XPaths do not
pickle."""


def plain_rule(rule: ExtractRule | None) -> PlainRule | None:
    return None if rule is None else (rule.body, rule.drop)


@lru_cache(maxsize=256)
def compiled_rule(plain: PlainRule | None) -> ExtractRule | None:
    """The rule ``plain`` stands for, compiled once per process."""
    return None if plain is None else ExtractRule(body=plain[0], drop=plain[1])


def rule_from_data(data: Any, where: str) -> ExtractRule:
    if not isinstance(data, dict):
        raise ExtractRuleError(f"{where}: a rule is a table with 'body' and/or 'drop'")
    unknown = set(data) - {"body", "drop"}
    if unknown:
        raise ExtractRuleError(f"{where}: unknown keys {sorted(unknown)} (use 'body', 'drop')")
    body, drop = data.get("body"), data.get("drop", [])
    if isinstance(drop, str):
        drop = [drop]
    if body is not None and not isinstance(body, str):
        raise ExtractRuleError(f"{where}: 'body' must be a CSS selector (a string)")
    if not isinstance(drop, list) or not all(isinstance(css, str) for css in drop):
        raise ExtractRuleError(f"{where}: 'drop' must be a list of CSS selectors")
    return ExtractRule(body=body or None, drop=tuple(drop))


@dataclass(frozen=True, slots=True)
class ExtractRules:
    """Rules by host; ``for_url`` picks the one for a page."""

    by_host: dict[str, ExtractRule] = field(default_factory=dict)

    def for_url(self, url: str | None) -> ExtractRule | None:
        host = (urlsplit(url or "").hostname or "").lower().rstrip(".")
        while host:
            rule = self.by_host.get(host)
            if rule is not None:
                return rule
            host = host.partition(".")[2]
        return None

    @classmethod
    def from_data(cls, data: Any, where: str = "extraction rules") -> ExtractRules:
        if not isinstance(data, dict):
            raise ExtractRuleError(f"{where}: expected a table of host = rule")
        rules = {}
        for host, rule in data.items():
            name = str(host).strip().lower().rstrip(".")
            if not name:
                raise ExtractRuleError(f"{where}: an empty host name")
            rules[name] = rule_from_data(rule, f"{where}, {host}")
        return cls(rules)


NO_RULES = ExtractRules()


def load_extract_rules(path: str | os.PathLike[str] | None) -> ExtractRules:
    """The rules in the JSON or TOML file at ``path`` (none for an empty path). Read again only
    when the file changes, so a refresh can call this for every run at no cost."""
    if not path:
        return NO_RULES
    file = Path(path).expanduser()
    try:
        stamp = file.stat().st_mtime_ns
    except OSError as exc:
        raise ExtractRuleError(f"cannot read extraction rules {file}: {exc.strerror}") from exc
    return _load(str(file), stamp)


def rules_for_refresh(path: str | None) -> ExtractRules:
    """The rules a refresh uses: a file broken since the settings were checked is logged and
    ignored, so that pages are still extracted (without rules) rather than not at all."""
    try:
        return load_extract_rules(path)
    except ExtractRuleError as exc:
        _LOG.warning("extraction rules ignored: %s", exc)
        return NO_RULES


def check_rules_file(raw: str) -> str:
    """Settings parser: the path, once the file has been read and every selector compiled."""
    load_extract_rules(raw.strip())
    return raw.strip()


@lru_cache(maxsize=8)
def _load(path: str, stamp: int) -> ExtractRules:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExtractRuleError(f"cannot read extraction rules {path}: {exc}") from exc
    try:
        data = tomllib.loads(text) if path.endswith(".toml") else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ExtractRuleError(
            f"{path}: not valid {Path(path).suffix[1:] or 'JSON'}: {exc}"
        ) from exc
    return ExtractRules.from_data(data, path)
