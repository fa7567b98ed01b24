"""Names compared and keyed the same way everywhere: case, accents and punctuation folded."""

from __future__ import annotations

import re
import unicodedata

KEY_LENGTH = 200  # entities.key is String(200)

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_DASHES = re.compile(r"[-‐‑‒–—]+")
_NOT_WORD = re.compile(r"[^\w&' ]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for comparisons (keeps dots and dashes)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", plain).strip().casefold()


def make_key(name: str) -> str:
    """What variants of one name share: case, accents, dots, dashes, punctuation and a leading
    "the" do not count ("U.S." and "us", "al-Qaeda" and "Al Qaeda")."""
    text = fold(name).replace(".", "")
    text = _DASHES.sub(" ", text)
    text = _NOT_WORD.sub(" ", text).replace("'", "")
    text = _SPACES.sub(" ", text).strip()
    if text.startswith("the "):
        text = text[4:]
    return text[:KEY_LENGTH]
