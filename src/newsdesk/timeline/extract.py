"""Dated events in article text: what a timeline of a story or an entity is made of.

Rules (the golden files in tests/data/timeline/ are the worked examples):
- A sentence with a date gives one event: its most precise date (day over month over year), the
  first of equally precise ones. A sentence without a date gives none.
- A dated list item ("August 2023: Smirnov …", "1992 to 2006: …") takes its opening date, and
  the item's later sentences without a date of their own (or with the same date) stay with the
  event before them: they tell what happened then. Elsewhere an event is one sentence.
- Dates follow newsdesk.timeline.dates: day, month or year precision, the ISO date of the first
  day of the period; a range stands for its start; a day and month without a year take it from
  ``published`` only when exactly one year puts them shortly before (or just after) it.
- Identical events (same date and text) are kept once; at most MAX_EVENTS per document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from newsdesk.model import Event
from newsdesk.timeline.dates import (
    FoundDate,
    best_date,
    could_hold_date,
    find_dates,
    lead_date,
)
from newsdesk.timeline.sentences import paragraphs, sentences, strip_marker

# Stored with what the intelligence stage has read (entry_intel.version): a change to the rules
# that changes their output bumps it, so entries are read again.
EXTRACTOR_VERSION = 1
MAX_EVENTS = 250
# Longest text read from one document, and longest text kept for one event.
MAX_TEXT = 300_000
MAX_EVENT_TEXT = 1_000
# Longest part of one sentence searched for dates (a "sentence" longer than this is not prose).
MAX_SENTENCE_SCAN = 4_000
_URL = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+", re.IGNORECASE
)


def _mask_urls(sentence: str) -> str:
    """The sentence with URLs and addresses blanked out: their numbers are not dates."""
    if "@" not in sentence and "://" not in sentence and "www." not in sentence.lower():
        return sentence
    return _URL.sub(lambda m: " " * len(m.group()), sentence)


def _clip(text: str) -> str:
    if len(text) <= MAX_EVENT_TEXT:
        return text
    cut = text[: MAX_EVENT_TEXT - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_EVENT_TEXT // 2 else cut).rstrip() + "…"


@dataclass(slots=True)
class _Draft:
    date: str
    precision: str
    parts: list[str]
    length: int
    full: bool = False

    def extend(self, sentence: str) -> None:
        """Add a following sentence while the text stays whole and short enough."""
        if self.full or self.length + 1 + len(sentence) > MAX_EVENT_TEXT:
            self.full = True
            return
        self.parts.append(sentence)
        self.length += 1 + len(sentence)


def _drafts(text: str, published: datetime | None) -> list[_Draft]:
    drafts: list[_Draft] = []
    for paragraph in paragraphs(text[:MAX_TEXT]):
        if not could_hold_date(paragraph):
            continue  # an event never spans paragraphs: one without a date adds nothing
        item: _Draft | None = None  # the open event of a dated list item
        for sentence in sentences(strip_marker(paragraph)):
            masked = _mask_urls(sentence[:MAX_SENTENCE_SCAN])
            found = find_dates(masked, published)
            lead = lead_date(masked, found)
            chosen: FoundDate | None = lead or best_date(found)
            if chosen is None or (
                item is not None
                and lead is None
                and (chosen.date, chosen.precision) == (item.date, item.precision)
            ):
                if item is not None:
                    item.extend(sentence)
                continue
            draft = _Draft(chosen.date, chosen.precision, [sentence], len(sentence))
            drafts.append(draft)
            if lead is not None:
                item = draft
            elif item is not None:
                item = draft  # later undated sentences of the item tell about this date
        if len(drafts) >= MAX_EVENTS * 2:
            break
    return drafts


def extract_events(text: str, *, published: datetime | None = None) -> list[Event]:
    """The dated events of ``text`` in document order (see the module's rules)."""
    events: list[Event] = []
    seen: set[tuple[str, str, str]] = set()
    for draft in _drafts(text or "", published):
        sentence = _clip(" ".join(draft.parts))
        key = (draft.date, draft.precision, sentence.casefold())
        if key in seen:
            continue
        seen.add(key)
        events.append(Event(draft.date, draft.precision, sentence, len(events)))
        if len(events) >= MAX_EVENTS:
            break
    return events
