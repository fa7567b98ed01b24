"""Sentence splitting good enough for dated events: paragraphs are lines, a sentence ends at
. ! ? … before a capital, a digit or an opening quote, except after abbreviations ("Mr.",
"Sept. 27", "U.S."), initials ("J. Smith") and list numbers ("51. The Defendant…")."""

from __future__ import annotations

import re
from collections.abc import Iterator

# Words that a full stop follows without ending the sentence.
_ABBREVIATION_WORDS = (
    "mr mrs ms mx dr prof st gen sen rep gov lt col capt cpt sgt maj adm cmdr rev hon pres "
    "supt insp det gov't jr sr messrs mmes vs v cf approx dept est ft mt ave blvd rd hwy "
    "inc ltd corp co bros"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# Full stops after these end no sentence only when a number follows ("Sept. 27", "No. 5").
_BEFORE_NUMBER_WORDS = (
    "jan feb mar apr jun jul aug sep sept oct nov dec no nos nr art fig figs vol vols p pp "
    "para paras sec ch chap op"
)
_BEFORE_NUMBER = frozenset(_BEFORE_NUMBER_WORDS.split())
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_CANDIDATE = re.compile(r"(?P<stop>[.!?…]+)(?P<close>[\"”’')\]]*)(?P<space>\s+)")
_OPENERS = "\"“‘'([«"
# List markers that open a line: "51. ", "(3) ", "• ", "- ".
_MARKER = re.compile(r"^(?:\(?\d{1,3}[.)]\s+|[•·▪‣◦*–—-]\s+)")


def paragraphs(text: str) -> Iterator[str]:
    """Non-empty lines of ``text``, whitespace collapsed."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            yield line


def strip_marker(paragraph: str) -> str:
    """``paragraph`` without a leading list number or bullet."""
    return _MARKER.sub("", paragraph, count=1)


def _token_before(paragraph: str, end: int) -> str:
    """The word that ends at ``end`` (at most 40 characters of it)."""
    start = max(0, end - 40)
    return paragraph[max(start, paragraph.rfind(" ", start, end) + 1) : end]


def _ends_sentence(paragraph: str, match: re.Match[str]) -> bool:
    following = paragraph[match.end() : match.end() + 2]
    if following[:1] in _OPENERS:
        following = following[1:]
    if not following or not (following[0].isupper() or following[0].isdigit()):
        return False
    if match.group("stop") != ".":
        return True
    token = _token_before(paragraph, match.start()).lstrip(_OPENERS)
    word = token.rstrip(".").lower()
    if word in _ABBREVIATIONS:
        return False
    if word in _BEFORE_NUMBER and following[0].isdigit():
        return False
    if len(token) == 1 and token.isalpha() and token.isupper():
        return False  # an initial: "J. Smith"
    if token.isdigit() and len(token) <= 3:
        # "…, 2. The …" numbers a list; "… through him RO 2. When …" ends a sentence.
        before = paragraph[: match.start() - len(token)].rstrip()
        return bool(before) and before[-1] not in ",;:("
    return not _INITIALISM.fullmatch(token)


def sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, in order."""
    out: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(paragraph):
        if _ends_sentence(paragraph, match):
            end = match.end() - len(match.group("space"))
            piece = paragraph[start:end].strip()
            if piece:
                out.append(piece)
            start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        out.append(rest)
    return out
