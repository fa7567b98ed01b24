"""Timelines: dated events pulled out of article text (pure Python, no model), stored per entry
by newsdesk.store.events and shown per story and per entity; exports in
newsdesk.timeline.export."""

from __future__ import annotations

from newsdesk.model import Event
from newsdesk.timeline.extract import EXTRACTOR_VERSION, MAX_EVENTS, extract_events

__all__ = ["EXTRACTOR_VERSION", "MAX_EVENTS", "Event", "extract_events"]
