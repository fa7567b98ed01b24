"""People, organisations and places named in entries (issue 7, part 2).

``load_extractor(settings)`` gives the process's extractor (spaCy, imported only then);
``extractor.extract([(title, text), ...])`` gives each document's ``FoundEntity`` list, ready for
``newsdesk.store.entities.replace_mentions``. Importing this package does not import spaCy."""

from __future__ import annotations

from newsdesk.entities.extractor import (
    EntityExtractor,
    EntityModelMissing,
    compose,
    load_extractor,
)
from newsdesk.model import KINDS, FoundEntity

# Bump when extraction or normalisation changes enough that stored entries should be re-read
# (the intel stage compares it with entry_intel.version).
EXTRACTOR_VERSION = 1

__all__ = [
    "EXTRACTOR_VERSION",
    "KINDS",
    "EntityExtractor",
    "EntityModelMissing",
    "FoundEntity",
    "compose",
    "load_extractor",
]
