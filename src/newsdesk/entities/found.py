"""What the extractor hands to the store: one entity per document, its variants and counts."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("person", "org", "place")


@dataclass(frozen=True, slots=True)
class FoundEntity:
    """One entity as found in one document.

    ``key`` is what variants share across documents (normalised, case-folded); ``name`` is the
    form to show; ``surfaces`` are the forms as written in the document with each run of whitespace
    written as one space, as the timeline's sentences are (possessives and titles removed), so
    later stages can find the entity in a sentence; ``first_offset`` is the
    character offset of the first mention in ``title + "\\n\\n" + text`` (the text alone when the
    title only repeats its beginning).
    """

    kind: str
    key: str
    name: str
    surfaces: tuple[str, ...]
    count: int
    first_offset: int
