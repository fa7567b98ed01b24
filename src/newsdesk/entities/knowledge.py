"""The built-in alias table and word lists (aliases.json, shipped in the package), and the key
every variant of a name is reduced to.

Kept as data so the lists can grow without touching code; loaded once per process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from newsdesk.process.names import fold, make_key


def _is_code(variant: str) -> bool:
    letters = variant.replace(".", "")
    return len(letters) <= 3 and letters.isupper()


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Alias groups (lookup form -> kind and canonical name) and the word lists."""

    aliases: dict[str, tuple[str, str]]  # make_key(variant) -> (kind, canonical name)
    codes: dict[str, tuple[str, str]]  # exact short capitals ("US", "U.S.", "UAE") -> same
    demonyms: frozenset[str]
    honorifics: frozenset[str]
    titles: frozenset[str]
    trailing_titles: frozenset[str]
    generic: frozenset[str]
    designators: frozenset[str]
    facility_suffixes: frozenset[str]
    placeholders: frozenset[str]
    prefixes: frozenset[str]
    stopwords: frozenset[str]

    def lookup(self, name: str) -> tuple[str, str] | None:
        """The (kind, canonical name) the table gives this name, if any."""
        if name in self.codes:
            return self.codes[name]
        if _is_code(name):
            return None  # short capitals match only exactly ("WHO" is not "who")
        return self.aliases.get(make_key(name))


def _words(values: list[str]) -> frozenset[str]:
    return frozenset(fold(v).rstrip(".") for v in values)


@cache
def knowledge() -> Knowledge:
    """Load aliases.json from the package (once)."""
    raw = json.loads(resources.files("newsdesk.entities").joinpath("aliases.json").read_text())
    aliases: dict[str, tuple[str, str]] = {}
    codes: dict[str, tuple[str, str]] = {}
    for section, kind in (("places", "place"), ("orgs", "org"), ("people", "person")):
        for group in raw.get(section, []):
            canonical = group[0]
            for variant in group:
                if _is_code(variant):
                    codes[variant] = (kind, canonical)
                else:
                    aliases.setdefault(make_key(variant), (kind, canonical))
    return Knowledge(
        aliases=aliases,
        codes=codes,
        demonyms=_words(raw["demonyms"]),
        honorifics=_words(raw["honorifics"]),
        titles=_words(raw["titles"]),
        trailing_titles=_words(raw["trailing_titles"]),
        generic=_words(raw["generic"]),
        designators=_words(raw["designators"]),
        facility_suffixes=_words(raw["facility_suffixes"]),
        placeholders=_words(raw["placeholders"]),
        prefixes=_words(raw["pre_prefixes"]),
        stopwords=_words(raw["stopwords"]),
    )
